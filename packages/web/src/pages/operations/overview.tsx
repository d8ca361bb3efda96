import { AppPaths } from '@ems/contracts/app-paths';
import { listDeadLetters, listStuckCases, listWebhooks } from '../../api/operations.ts';
import { DataTable } from '../../components/data-table.tsx';
import type { LiveUpdate } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, formatInstant, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { STEP_WORDS, troubled } from './steps.ts';

const anyCase = (u: LiveUpdate) => u.kind === 'case' || u.kind === 'reconnected';
const anyDeadLetter = (u: LiveUpdate) => u.kind === 'dead-letter' || u.kind === 'reconnected';

/** The operator's start: stuck cases (late or failed steps named), and the way to dead letters, webhooks, extensions. Live. */
export function OperationsPage(_props: { params: Record<string, string> }) {
  const stuck = useResource((signal) => listStuckCases({ limit: 100 }, signal), [], anyCase);
  const deadLetters = useResource((signal) => listDeadLetters({ limit: 100 }, signal), [], anyDeadLetter);
  const webhooks = useResource((signal) => listWebhooks({ limit: 100 }, signal), []);
  const count = (n: number, more: boolean, one: string, many: string) => (n === 0 ? `No ${many}` : `${n}${more ? '+' : ''} ${n === 1 ? one : many}`);
  return (
    <Page title="Operations">
      <ul className="cards">
        <li className="card">
          <h2>Dead letters</h2>
          <p>{deadLetters.data ? count(deadLetters.data.items.length, deadLetters.data.nextOffset !== null, 'open dead letter', 'open dead letters') : deadLetters.error ? 'Could not be read.' : 'Counting…'}</p>
          <Link to={AppPaths.deadLetters}>See the dead letters</Link>
        </li>
        <li className="card">
          <h2>Webhooks</h2>
          <p>{webhooks.data ? count(webhooks.data.items.length, webhooks.data.nextOffset !== null, 'webhook registered', 'webhooks registered') : webhooks.error ? 'Could not be read.' : 'Counting…'}</p>
          <Link to={AppPaths.webhooks}>See the webhooks</Link>
        </li>
        <li className="card">
          <h2>Extensions</h2>
          <p>Services that joined the flow by subscribing to its events.</p>
          <Link to={AppPaths.extensions}>See the extensions</Link>
        </li>
        <li className="card">
          <h2>Access audit</h2>
          <p>Every change of every grant, and its hash chain.</p>
          <Link to={AppPaths.accessAudit}>See the access audit</Link>
        </li>
      </ul>

      <section aria-labelledby="stuck-h">
        <h2 id="stuck-h">Stuck cases{stuck.data ? ` (${stuck.data.items.length}${stuck.data.nextOffset !== null ? '+' : ''})` : ''}</h2>
        <p className="muted">Open cases with a step past its deadline (late) or given up (failed). This list follows the cases live.</p>
        <ErrorMessage error={stuck.error} />
        {stuck.data === undefined ? (
          stuck.error ? null : <Loading what="Looking for stuck cases" />
        ) : stuck.data.items.length === 0 ? (
          <p>No case is stuck: every open case's steps are on time.</p>
        ) : (
          <DataTable label="Stuck cases and their late or failed steps" columns={['Employee', 'Status', 'Late or failed', 'Mode', 'Submitted']}>
            {stuck.data.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={AppPaths.case(c.id)}>{c.employeeName}</Link>
                </td>
                <td>
                  <Status status={c.status} />
                </td>
                <td>
                  <ul className="plain">
                    {troubled(c).map(([name, s]) => (
                      <li key={name}>
                        <Status status={s.status} /> {STEP_WORDS[name]}:{' '}
                        {s.status === 'late'
                          ? `expected by ${formatInstant(s.expectedBy)}${s.attempts > 0 ? `, ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}` : ''}`
                          : `gave up after ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}${s.at ? `, ${formatInstant(s.at)}` : ''}`}
                        {s.lastError ? <span className="muted"> — {s.lastError}</span> : null}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{c.mode}</td>
                <td>
                  <DateTime iso={c.submittedAt} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </Page>
  );
}
