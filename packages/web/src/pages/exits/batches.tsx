import { AppPaths } from '@ems/contracts/app-paths';
import { EXIT_REASON_WORDS, listExitBatches } from '../../api/exits.ts';
import { DataTable } from '../../components/data-table.tsx';
import { PageLinks } from '../../components/page-links.tsx';
import { useResource } from '../../components/resource.ts';
import { Link, useLocation } from '../../components/router.tsx';
import { DateTime, ErrorMessage, formatInstant, Loading, Status } from '../../components/ui.tsx';

/** Batches a page. */
const PAGE_SIZE = 20;

const people = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'person' : 'people'}`;

/**
 * The exit batches HR started, newest first, each linking to its progress page — so a batch is found again
 * after its page was left. Paged in the address (`/exits?offset=`), so back and reload keep the page. The list
 * reads the batch rows only: its progress counts are on the batch's own page.
 */
export function ExitBatches() {
  const { search } = useLocation();
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const loaded = useResource(async (signal) => ({ ...(await listExitBatches({ limit: PAGE_SIZE, offset }, signal)), offset }), [offset]);
  // Rows of another page are not shown while this one loads.
  const list = loaded.data?.offset === offset ? loaded.data : undefined;
  const items = list?.items ?? [];
  return (
    <section aria-labelledby="exit-batches-h">
      <h2 id="exit-batches-h">Exit batches</h2>
      <ErrorMessage error={loaded.error} />
      {list === undefined ? (
        loaded.error ? null : <Loading what="Reading the exit batches" />
      ) : items.length === 0 ? (
        <p>{offset > 0 ? 'No exit batches on this page.' : 'No employment has been ended here yet.'}</p>
      ) : (
        <>
          <p className="muted">
            {(offset + 1).toLocaleString()}–{(offset + items.length).toLocaleString()}, newest first. Each start time opens the batch: its progress and its cases.
          </p>
          <DataTable label="Exit batches, newest first" columns={['Started', 'People', 'Reason', 'Progress', 'Started by']}>
            {items.map((b) => (
              <tr key={b.id}>
                <th scope="row">
                  <Link to={AppPaths.exitBatch(b.id)}>{formatInstant(b.createdAt)}</Link>
                </th>
                <td>{people(b.total)}</td>
                <td>{EXIT_REASON_WORDS[b.reason]}</td>
                <td>
                  {b.settled ? <Status status="settled" /> : <Status status="working" />}
                  {b.settledAt ? (
                    <>
                      {' '}
                      <DateTime iso={b.settledAt} />
                    </>
                  ) : null}
                </td>
                <td>{b.createdBy ? (b.createdBy.name ?? b.createdBy.id) : <span className="muted">unknown</span>}</td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
      <PageLinks label="Pages of exit batches" offset={offset} pageSize={PAGE_SIZE} nextOffset={list?.nextOffset} urlFor={(o) => (o ? `${AppPaths.exits}?offset=${o}` : AppPaths.exits)} />
    </section>
  );
}
