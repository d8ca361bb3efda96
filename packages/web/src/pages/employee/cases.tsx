import { AppPaths } from '@ems/contracts/app-paths';
import { CASE_STATUSES, listResignations } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, formatDay, Loading, Page, Status, statusWords } from '../../components/ui.tsx';
import { Link, navigate, useLocation } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';

const live = caseChanged();
const PAGE_SIZE = 25;
/** `stuck`: open cases with a step late or failed (the API's filter). */
const FILTERS = ['', 'stuck', ...CASE_STATUSES] as const;

/**
 * The cases this person may see (the API decides which: their own, their reports', assigned, or all), newest
 * first; filtered by status (or stuck) and paged — both kept in the address, so back and reload keep them.
 */
export function CasesPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const { search } = useLocation();
  const rawStatus = search.get('status') ?? '';
  const status = (FILTERS as readonly string[]).includes(rawStatus) ? rawStatus : '';
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const cases = useResource((signal) => listResignations({ limit: PAGE_SIZE, offset, status }, signal), [status, offset], live);
  const go = (next: { status?: string; offset?: number }) => {
    const q = new URLSearchParams();
    const s = next.status ?? status;
    const o = next.offset ?? 0;
    if (s) q.set('status', s);
    if (o) q.set('offset', String(o));
    navigate(`${AppPaths.cases}${q.size ? `?${q.toString()}` : ''}`);
  };
  const items = cases.data?.items ?? [];
  const onlyOwn = session.has('employee') && !session.has('manager', 'hr_partner', 'hr_lead', 'access_admin', 'operator');
  return (
    <Page title={onlyOwn ? 'Your cases' : 'Cases'} actions={session.has('employee', 'hr_partner', 'hr_lead') ? <Link to={AppPaths.resign} className="button secondary">{onlyOwn ? 'Resign' : 'Submit a resignation'}</Link> : null}>
      <form className="filters" role="search" aria-label="Filter cases" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="cases-status">Status</label>
          <select id="cases-status" value={status} onChange={(e) => go({ status: e.target.value, offset: 0 })}>
            {FILTERS.map((f) => (
              <option key={f} value={f}>
                {f === '' ? 'All' : f === 'stuck' ? 'Stuck (a step late or failed)' : statusWords(f)}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorMessage error={cases.error} />
      {cases.data === undefined ? (
        cases.error ? null : <Loading />
      ) : items.length === 0 ? (
        <p role="status">{status || offset ? 'No cases match.' : onlyOwn ? 'You have not resigned.' : 'No cases to show.'}</p>
      ) : (
        <>
          <p className="muted" role="status">
            Showing {offset + 1}–{offset + items.length}
            {status ? ` (${status === 'stuck' ? 'stuck' : statusWords(status).toLowerCase()})` : ''}, newest first.
          </p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Cases, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Employee</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last working day</th>
                  <th scope="col">Submitted</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={AppPaths.case(c.id)}>{c.employeeName}</Link>
                    </td>
                    <td>
                      <Status status={c.status} />
                      {c.closedAt ? <span className="muted"> closed</span> : null}
                    </td>
                    <td>{formatDay(c.lastWorkingDay)}</td>
                    <td>{formatDay(c.submittedAt.slice(0, 10))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {offset > 0 || cases.data?.nextOffset != null ? (
        <nav className="pager" aria-label="Pages of cases">
          <button type="button" className="secondary" disabled={offset === 0} onClick={() => go({ offset: Math.max(0, offset - PAGE_SIZE) })}>
            Newer
          </button>
          <button type="button" className="secondary" disabled={cases.data?.nextOffset == null} onClick={() => go({ offset: cases.data?.nextOffset ?? offset })}>
            Older
          </button>
        </nav>
      ) : null}
    </Page>
  );
}
