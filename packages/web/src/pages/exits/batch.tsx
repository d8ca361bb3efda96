import { useCallback, useEffect, useId, useRef, type ReactNode } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem } from '../../api/client.ts';
import { EXIT_REASON_WORDS, getExitBatch, type ExitBatch } from '../../api/exits.ts';
import { DataTable } from '../../components/data-table.tsx';
import type { LiveUpdate } from '../../components/live.ts';
import { PageLinks } from '../../components/page-links.tsx';
import { useResource } from '../../components/resource.ts';
import { Link, useLocation } from '../../components/router.tsx';
import { DateTime, ErrorMessage, formatInstant, Loading, Page, Status } from '../../components/ui.tsx';

/** Cases a page. */
const PAGE_SIZE = 50;
/** While the batch has not settled, its progress is read again this often (a mass exit's cases change by the thousand: polling one answer beats a reload per case event). */
const POLL_MS = 1_500;
/** Once settled, a case event (a revocation at revokeAt) reloads the page at most this often. */
const LIVE_MIN_MS = 5_000;

/**
 * An involuntary / mass exit's progress (HR lead): how many people have their access suspended, were told,
 * have their revocation scheduled, failed; whether the batch has settled; its cases a page at a time, each
 * linking to its case page. Read again every 1.5 s until settled, then on live case updates.
 */
export function ExitBatchPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const { search } = useLocation();
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const lastLive = useRef(0);
  const settledRef = useRef(false);
  // After settling, the cases still change once (exited at revokeAt): live updates say when; throttled, as a batch may be 10,000 cases.
  const live = useCallback((u: LiveUpdate) => {
    if (!settledRef.current || (u.kind !== 'case' && u.kind !== 'reconnected')) return false;
    const now = Date.now();
    if (now - lastLive.current < LIVE_MIN_MS) return false;
    lastLive.current = now;
    return true;
  }, []);
  const batch = useResource((signal) => getExitBatch(id, { limit: PAGE_SIZE, offset }, signal), [id, offset], live);
  const data = batch.data;
  settledRef.current = data?.settled ?? false;

  // Poll until settled (each read scheduled after the previous answer, so a slow server is never asked twice at once).
  const { reload, loading } = batch;
  useEffect(() => {
    if (!data || data.settled || loading) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [data, loading, reload]);

  if (!data) {
    return (
      <Page title="Exit">
        {batch.error ? (
          batch.error instanceof Problem && (batch.error.status === 404 || batch.error.status === 400) ? (
            <p>
              There is no exit batch {id ? <code className="wrap">{id}</code> : null}. <Link to={AppPaths.exits}>End an employment</Link>.
            </p>
          ) : (
            <ErrorMessage error={batch.error} />
          )
        ) : (
          <Loading what="Loading the exit" />
        )}
      </Page>
    );
  }
  const single = data.total === 1 ? data.cases.items[0] : undefined;
  const title = single ? `Exit of ${single.employeeName}` : `Mass exit of ${data.total.toLocaleString()} people`;
  return (
    <Page
      title={title}
      actions={
        <Link to={AppPaths.exits} className="button secondary">
          End another employment
        </Link>
      }
    >
      {/* Polling errors: the last progress stays shown, the error beside it. */}
      <ErrorMessage error={batch.error} />
      <Facts b={data} />
      <Progress b={data} />
      <Cases b={data} id={id} offset={offset} />
    </Page>
  );
}

function Facts({ b }: { b: ExitBatch }) {
  return (
    <section aria-labelledby="exit-facts">
      <h2 id="exit-facts" className="visually-hidden">
        The exit
      </h2>
      <dl className="facts">
        <dt>Reason</dt>
        <dd>{EXIT_REASON_WORDS[b.reason]}</dd>
        <dt>People</dt>
        <dd>{b.total.toLocaleString()}</dd>
        <dt>Started</dt>
        <dd>
          <DateTime iso={b.createdAt} />
          {b.createdBy ? ` by ${b.createdBy.name ?? b.createdBy.id}` : ''}
        </dd>
        <dt>Access revoked</dt>
        <dd>{b.revokeAt ? <>at {formatInstant(b.revokeAt)}</> : 'at the end of each person’s last working day, in their time zone'}</dd>
        <dt>Batch</dt>
        <dd>
          <code className="wrap">{b.id}</code>
        </dd>
      </dl>
    </section>
  );
}

/** The counts as progress bars with their numbers in words (never the bar alone), and whether the batch settled. */
function Progress({ b }: { b: ExitBatch }) {
  const settledText = b.settled
    ? `Settled ${formatInstant(b.settledAt)}: every person's access is suspended${b.failed ? ' or failed' : ''} and they were told${b.failed ? ' (or it failed)' : ''}, with the revocation scheduled.`
    : 'Working: this page updates by itself until the batch has settled.';
  return (
    <section aria-labelledby="exit-progress" className="exit-progress">
      <h2 id="exit-progress">
        Progress {b.settled ? <Status status="settled" /> : <Status status="working" />}
      </h2>
      {/* Announced when it changes: working → settled (not every count, which would talk over everything). */}
      <p role="status" className={b.settled ? 'exit-settled' : undefined}>
        {settledText}
      </p>
      <ul className="plain exit-bars">
        <Bar label="Access suspended" hint="every grant, critical first" value={b.accessSuspended} total={b.total} />
        <Bar label="Told by email" hint="the person and their manager" value={b.noticesSent} total={b.total} />
        <Bar label="Revocation scheduled" hint="at the time set" value={b.revocationsScheduled} total={b.total} />
        <Bar label="Access revoked" hint="the case is exited" value={b.exited} total={b.total} />
      </ul>
      <p className={b.failed > 0 ? 'exit-failed' : 'muted'}>
        {b.failed > 0 ? (
          <>
            <strong>
              {b.failed.toLocaleString()} {b.failed === 1 ? 'case has' : 'cases have'} a failed step.
            </strong>{' '}
            Open {b.failed === 1 ? 'it' : 'them'} below (status “Action required” or a step “Failed”) to see why; operators see them among stuck cases.
          </>
        ) : (
          'No step has failed.'
        )}
      </p>
    </section>
  );
}

function Bar({ label, hint, value, total }: { label: string; hint: string; value: number; total: number }) {
  const id = useId();
  const pct = total > 0 ? Math.round((value / total) * 100) : 0;
  return (
    <li className="exit-bar">
      <label htmlFor={id}>
        {label} <span className="muted">({hint})</span>
      </label>
      <progress id={id} max={total || 1} value={value} aria-valuetext={`${value} of ${total}`} />
      <span className="exit-count">
        {value.toLocaleString()} of {total.toLocaleString()} <span className="muted">({pct}%)</span>
      </span>
    </li>
  );
}

function Cases({ b, id, offset }: { b: ExitBatch; id: string; offset: number }) {
  const items = b.cases.items;
  const from = items.length ? offset + 1 : 0;
  const to = offset + items.length;
  const cell = (s: string): ReactNode => <Status status={s} />;
  return (
    <section aria-labelledby="exit-cases">
      <h2 id="exit-cases">Cases</h2>
      <p className="muted">
        {items.length ? `${from.toLocaleString()}–${to.toLocaleString()} of ${b.total.toLocaleString()}, one per person.` : offset > 0 ? 'No cases on this page.' : 'No case yet.'} Each opens its case: steps and timeline.
      </p>
      {items.length ? (
        <DataTable label="Cases of this exit" columns={['Employee', 'Case', 'Access suspended', 'Told', 'Access revoked', 'Revoked at']}>
          {items.map((c) => (
            <tr key={c.resignationId}>
              <th scope="row">
                <Link to={AppPaths.case(c.resignationId)}>{c.employeeName}</Link> <span className="muted">({c.employeeId})</span>
              </th>
              <td>{cell(c.status)}</td>
              <td>{cell(c.accessSuspended)}</td>
              <td>{cell(c.noticesSent)}</td>
              <td>{cell(c.accessRevoked)}</td>
              <td>
                <DateTime iso={c.revokeAt} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <PageLinks label="Pages of cases" offset={offset} pageSize={PAGE_SIZE} nextOffset={b.cases.nextOffset} urlFor={(o) => (o ? `${AppPaths.exitBatch(id)}?offset=${o}` : AppPaths.exitBatch(id))} />
    </section>
  );
}
