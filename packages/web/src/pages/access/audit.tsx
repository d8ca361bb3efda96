import { useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { employeesById, listAudit, verifyAudit, type AuditEntry, type AuditVerification, type Employee } from '../../api/access.ts';
import { Problem } from '../../api/client.ts';
import { DataTable } from '../../components/data-table.tsx';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Field, Loading, Page, statusWords } from '../../components/ui.tsx';
import { Link, navigate, useLocation } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { ActorCell, personName, viewerZone } from './shared.tsx';

const PAGE = 50;
const live = caseChanged();

function auditUrl(employeeId: string, offset: number): string {
  const q = new URLSearchParams();
  if (employeeId) q.set('employeeId', employeeId);
  if (offset > 0) q.set('offset', String(offset));
  const s = q.toString();
  return s ? `${AppPaths.accessAudit}?${s}` : AppPaths.accessAudit;
}

/** The access audit: every change of every grant with who made it (person or service, role, client), paged; and its hash chain checked. */
export function AccessAuditPage(_props: { params: Record<string, string> }) {
  const { search } = useLocation();
  const session = useSession();
  const employeeId = search.get('employeeId') ?? '';
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const [typed, setTyped] = useState(employeeId);
  const verification = useResource((signal) => verifyAudit(signal), [], live);
  const query = `${employeeId}|${offset}`;
  const loaded = useResource(
    async (signal) => {
      const page = await listAudit({ limit: PAGE, offset, employeeId: employeeId || undefined }, signal);
      return { ...page, query, employees: await employeesById(page.items.map((e) => e.employeeId), signal) };
    },
    [employeeId, offset],
    live,
  );
  // Another filter's or page's rows are not shown while this one loads (a live reload keeps the rows shown).
  const entries = { ...loaded, data: loaded.data?.query === query ? loaded.data : undefined };
  // The server names query parameters `querystring.<name>`.
  const filterError = entries.error instanceof Problem ? (entries.error.field('querystring.employeeId') ?? entries.error.field('query.employeeId')) : undefined;
  const onFilter = (e: FormEvent) => {
    e.preventDefault();
    navigate(auditUrl(typed.trim(), 0));
  };
  const canSeeEmployees = session.has('access_admin', 'hr_lead', 'hr_partner');
  const v = verification.data;
  const broken = v && !v.ok ? v.firstBrokenId : undefined;
  // The whole audit's last page, from the count the chain check gives (unknown for one employee's entries).
  const latest = !employeeId && v?.ok && v.rows + v.pending > PAGE ? v.rows + v.pending - PAGE : undefined;
  return (
    <Page title="Access audit">
      <section aria-labelledby="chain-h">
        <h2 id="chain-h">Hash chain</h2>
        <ErrorMessage error={verification.error} />
        {v === undefined ? verification.error ? null : <Loading what="Checking the hash chain" /> : <ChainState v={v} />}
        <button type="button" className="secondary" onClick={verification.reload} disabled={verification.loading}>
          {verification.loading ? 'Checking…' : 'Check again'}
        </button>
      </section>

      <section aria-labelledby="entries-h">
        <h2 id="entries-h">Entries{employeeId ? ` for ${entries.data ? personName(entries.data.employees, employeeId) : employeeId}` : ''}</h2>
        <form className="inline-form" onSubmit={onFilter} role="search" aria-label="Filter the audit">
          <Field label="Employee id" hint="Only this employee's entries (e.g. E1010); empty for all." error={filterError}>
            {({ id, describedBy, invalid }) => <input id={id} aria-describedby={describedBy} aria-invalid={invalid} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />}
          </Field>
          <div className="form-actions">
            <button type="submit">Show</button>
            {employeeId ? (
              <Link to={auditUrl('', 0)} className="button secondary" onClick={() => setTyped('')}>
                Show all
              </Link>
            ) : null}
          </div>
        </form>
        {filterError ? null : <ErrorMessage error={entries.error} />}
        {entries.error ? null : entries.data === undefined ? (
          <Loading what="Reading the audit" />
        ) : entries.data.items.length === 0 ? (
          <p>{offset > 0 ? 'No more entries.' : 'No audit entries.'}</p>
        ) : (
          <>
            <p className="muted">
              Entries {offset + 1}–{offset + entries.data.items.length}, oldest first.
            </p>
            <DataTable label="Access audit entries, oldest first" columns={['Entry', 'When', 'Employee', 'Change', 'Reason', 'Who (role, client)']}>
              {entries.data.items.map((e) => (
                <AuditRow key={e.id} e={e} employees={entries.data!.employees} linkEmployee={canSeeEmployees} broken={broken === e.id} />
              ))}
            </DataTable>
          </>
        )}
        {offset > 0 || entries.data?.nextOffset != null ? (
          <nav aria-label="Audit pages" className="pager">
            {offset > 0 ? <Link to={auditUrl(employeeId, 0)}>First {PAGE}</Link> : null}
            {offset > 0 ? <Link to={auditUrl(employeeId, Math.max(0, offset - PAGE))}>Previous {PAGE}</Link> : null}
            {entries.data?.nextOffset != null ? <Link to={auditUrl(employeeId, entries.data.nextOffset)}>Next {PAGE}</Link> : null}
            {latest !== undefined && latest > offset ? <Link to={auditUrl(employeeId, latest)}>Latest {PAGE}</Link> : null}
          </nav>
        ) : null}
      </section>
    </Page>
  );
}

function ChainState({ v }: { v: AuditVerification }) {
  if (v.ok) {
    return (
      <div className="notice chain-ok" role="status">
        <p>
          <strong>Intact.</strong> {v.rows === 0 ? 'The audit is empty: nothing to verify.' : `All ${v.rows} entries check out: each one's hash matches its content and links to the entry before it${v.lastId !== null ? ` (last entry #${v.lastId})` : ''}.`}
          {v.pending > 0 ? ` ${v.pending} newer ${v.pending === 1 ? 'entry is' : 'entries are'} pending: written, and linked into the chain within a moment.` : ''}
        </p>
        <p className="muted">
          Checked <DateTime iso={v.checkedAt} />.
        </p>
      </div>
    );
  }
  return (
    <div className="error chain-broken" role="alert">
      <p>
        <strong>Broken at entry #{v.firstBrokenId}:</strong> {v.reason === 'hash does not match its content' ? 'its content was altered (its hash does not match it)' : "it does not link to the entry before it (that entry was altered or removed)"}.{' '}
        {v.lastIntactId !== null ? `Entries up to #${v.lastIntactId} are intact.` : 'No entry before it holds.'}
      </p>
      <p className="muted">
        {v.summary} Checked <DateTime iso={v.checkedAt} />.
      </p>
    </div>
  );
}

function AuditRow({ e, employees, linkEmployee, broken }: { e: AuditEntry; employees: ReadonlyMap<string, Employee>; linkEmployee: boolean; broken: boolean }) {
  return (
    <tr className={broken ? 'row-broken' : undefined}>
      <th scope="row">
        #{e.id}
        {broken ? (
          <>
            <br />
            <strong className="broken-mark">Chain broken here</strong>
          </>
        ) : e.pending ? (
          <>
            <br />
            <span className="muted">pending: not linked into the chain yet</span>
          </>
        ) : null}
      </th>
      <td>
        <DateTime iso={e.at} timeZone={viewerZone()} />
      </td>
      <td>{linkEmployee ? <Link to={AppPaths.employeeAccess(e.employeeId)}>{personName(employees, e.employeeId)}</Link> : personName(employees, e.employeeId)}</td>
      <td>
        {e.event !== null && e.to === null ? (
          <>
            {e.system}: <strong>{e.event.replaceAll('_', ' ')}</strong>
          </>
        ) : (
          <>
            {e.system}: {e.from === null ? 'new' : statusWords(e.from).toLowerCase()} → <strong>{statusWords(e.to ?? 'active').toLowerCase()}</strong>
          </>
        )}
      </td>
      <td>{e.reason}</td>
      <td>
        <ActorCell actor={e.actor} onBehalfOf={e.onBehalfOf} />
      </td>
    </tr>
  );
}
