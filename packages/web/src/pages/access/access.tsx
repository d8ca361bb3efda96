import { useState } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { employeesById, listAll, listDrifts, listHolds, listRevocations, listSystems, runReconciliation, type AccessDrift, type AccessHold, type AccessSystem, type SystemChange, type Employee, type Revocation } from '../../api/access.ts';
import { DataTable } from '../../components/data-table.tsx';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { connectorWords } from '../employee/connected-systems.tsx';
import { personName, RevokeNow, Zoned } from './shared.tsx';

interface AccessOverview {
  /** Open drifts (undefined: this reader may not list them). */
  drifts: AccessDrift[] | undefined;
  holds: AccessHold[];
  scheduled: Revocation[];
  recent: Revocation[];
  /** False when a list was too long to read whole (the overview then shows what it read, and says so). */
  complete: boolean;
  systems: Map<string, string>;
  /** Every system, connected ones (LDAP, SCIM, HTTP) first. */
  systemList: AccessSystem[];
  employees: Map<string, Employee>;
}

async function loadOverview(signal: AbortSignal, readsDrifts: boolean): Promise<AccessOverview> {
  const [holds, scheduled, done, systems, drifts] = await Promise.all([
    listAll((q) => listHolds(q, signal)),
    listAll((q) => listRevocations({ ...q, status: 'scheduled' }, signal)),
    listAll((q) => listRevocations({ ...q, status: 'done' }, signal)),
    listSystems(signal),
    readsDrifts ? listAll((q) => listDrifts(q, signal), {}, 1000) : Promise.resolve(undefined),
  ]);
  const active = holds.items.filter((h) => h.status === 'active');
  const recent = done.items.sort((a, b) => (b.doneAt ?? '').localeCompare(a.doneAt ?? '')).slice(0, 10);
  const employees = await employeesById([...active, ...scheduled.items, ...recent, ...(drifts?.items ?? [])].map((x) => x.employeeId), signal);
  return {
    drifts: drifts?.items,
    holds: active.sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    scheduled: scheduled.items.sort((a, b) => a.revokeAt.localeCompare(b.revokeAt)),
    recent,
    complete: holds.complete && scheduled.complete && done.complete,
    systems: new Map(systems.items.map((s) => [s.id, s.name])),
    systemList: [...systems.items].sort((a, b) => Number(a.connector.type === 'builtin') - Number(b.connector.type === 'builtin') || a.name.localeCompare(b.name)),
    employees,
  };
}

const live = caseChanged();

/** IT's view: who is on hold and what each hold suspended, revocations to come (revoke now), revocations done. */
export function AccessPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const readsDrifts = session.has('access_admin', 'operator');
  const data = useResource((signal) => loadOverview(signal, readsDrifts), [readsDrifts], live);
  const [done, setDone] = useState('');
  const canRevoke = session.has('access_admin');
  const o = data.data;
  const employeeLink = (id: string) => <Link to={AppPaths.employeeAccess(id)}>{o ? personName(o.employees, id) : id}</Link>;
  return (
    <Page
      title="Access"
      actions={
        session.has('access_admin', 'operator') ? (
          <Link to={AppPaths.accessAudit} className="button secondary">
            Access audit
          </Link>
        ) : undefined
      }
    >
      <p className="muted">Access holds suspend a leaver's critical access while their case is open; an exit confirmed revokes everything at the end of the last working day, in the employee's time zone.</p>
      <div role="status" className={done ? 'notice' : undefined}>
        {done}
      </div>
      <ErrorMessage error={data.error} />
      {o === undefined ? (
        data.error ? null : <Loading what="Reading holds and revocations" />
      ) : (
        <>
          {o.complete ? null : <p className="notice">There are more holds and revocations than this page reads at once (10,000 of each kind): some may be missing below. Open an employee's access page to see theirs.</p>}
          {o.drifts ? (
            <DriftsSection
              drifts={o.drifts}
              systems={o.systems}
              employees={o.employees}
              onChecked={(m) => {
                setDone(m);
                data.reload();
              }}
            />
          ) : null}

          <section aria-labelledby="holds-h">
            <h2 id="holds-h">Active holds ({o.holds.length})</h2>
            {o.holds.length === 0 ? (
              <p>No one's access is on hold.</p>
            ) : (
              <DataTable label="Active access holds, newest first, with the grants each suspended" columns={['Employee', 'Suspended grants', 'On hold since', 'Case']}>
                {o.holds.map((h) => (
                  <tr key={h.id}>
                    <td>
                      {employeeLink(h.employeeId)}
                    </td>
                    <td>
                      {h.suspendedGrants.length === 0 ? (
                        <span className="muted">None (no critical access)</span>
                      ) : (
                        <ul className="plain">
                          {h.suspendedGrants.map((g) => (
                            <li key={g.grantId}>{o.systems.get(g.system) ?? g.system}</li>
                          ))}
                        </ul>
                      )}
                      {h.systems.length ? <SystemChanges changes={h.systems} /> : null}
                    </td>
                    <td>
                      <Zoned iso={h.createdAt} timeZone={o.employees.get(h.employeeId)?.timezone} />
                    </td>
                    <td>
                      <Link to={AppPaths.case(h.resignationId)}>Open the case</Link>
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>

          <section aria-labelledby="scheduled-h">
            <h2 id="scheduled-h">Scheduled revocations ({o.scheduled.length})</h2>
            {o.scheduled.length === 0 ? (
              <p>No revocation is scheduled.</p>
            ) : (
              <DataTable label="Scheduled revocations, soonest first" columns={['Employee', "Every grant revoked at (employee's time)", 'Case', canRevoke ? 'Action' : null]}>
                {o.scheduled.map((r) => (
                  <tr key={r.id}>
                    <td>
                      {employeeLink(r.employeeId)}
                    </td>
                    <td>
                      <Zoned iso={r.revokeAt} timeZone={o.employees.get(r.employeeId)?.timezone} />
                      {r.revision > 1 ? <span className="muted"> · moved {r.revision - 1}×</span> : null}
                    </td>
                    <td>
                      <Link to={AppPaths.case(r.resignationId)}>Open the case</Link>
                    </td>
                    {canRevoke ? (
                      <td>
                        <RevokeNow
                          revocation={r}
                          employee={o.employees.get(r.employeeId)}
                          onDone={(m) => {
                            setDone(m);
                            data.reload();
                          }}
                        />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </DataTable>
            )}
          </section>

          <SystemsSection systems={o.systemList} />

          <section aria-labelledby="recent-h">
            <h2 id="recent-h">Recently revoked</h2>
            {o.recent.length === 0 ? (
              <p>No access has been revoked yet.</p>
            ) : (
              <DataTable label="The last revocations carried out, newest first" columns={['Employee', 'Revoked', 'When']}>
                {o.recent.map((r) => (
                  <tr key={r.id}>
                    <td>
                      {employeeLink(r.employeeId)}
                    </td>
                    <td>{r.revoked.length === 0 ? <span className="muted">Nothing was left</span> : r.revoked.map((g) => o.systems.get(g.system) ?? g.system).join(', ')}</td>
                    <td>{r.doneAt ? <DateTime iso={r.doneAt} timeZone={o.employees.get(r.employeeId)?.timezone} /> : '—'}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
        </>
      )}
    </Page>
  );
}

/** A connector's settings as Access shows them (never a secret): "url: ldaps://… · baseDn: …". */
function settingsWords(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

/** The systems Access grants and how it reaches each: a connector that changes the real system, or rows in EMS only (built-in). */
function SystemsSection({ systems }: { systems: readonly AccessSystem[] }) {
  return (
    <section aria-labelledby="systems-h">
      <h2 id="systems-h">Systems ({systems.length})</h2>
      <p className="muted">A connected system (LDAP, SCIM, signed HTTP) is changed for real when access is suspended, restored or revoked, and checked for drift; a built-in one is tracked in EMS only.</p>
      <DataTable label="Systems and how Access reaches them, connected systems first" className="wrap-anywhere" columns={['System', 'Critical', 'Connector']}>
        {systems.map((s) => {
          const settings = settingsWords(s.connector.settings);
          return (
            <tr key={s.id}>
              <td>
                {s.name} <span className="muted">({s.id})</span>
              </td>
              <td>{s.critical ? 'Critical: suspended during a hold' : 'No'}</td>
              <td>
                {s.connector.type === 'builtin' ? 'Built-in (EMS only)' : connectorWords(s.connector.type)}
                {settings ? (
                  <>
                    <br />
                    <span className="muted">{settings}</span>
                  </>
                ) : null}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </section>
  );
}

/** A hold's changes on connected systems: each system's suspend (then restore), how far it got, its error. */
function SystemChanges({ changes }: { changes: readonly SystemChange[] }) {
  return (
    <ul className="plain wrap-anywhere">
      {changes.map((c) => (
        <li key={c.changeId}>
          {c.systemName}: {c.action} <Status status={c.status} />
          {c.lastError && c.status !== 'done' ? <span className="muted"> {c.lastError}</span> : null}
        </li>
      ))}
    </ul>
  );
}

const DRIFT_WORDS: Record<AccessDrift['kind'], (entitlement: string | null) => string> = {
  account_enabled: () => 'Account enabled again',
  entitlement_added: (e) => `${e ?? 'An entitlement'} added`,
  entitlement_missing: (e) => `${e ?? 'An entitlement'} missing`,
};

/**
 * Open drifts: a connected system that differs from a hold or a revocation (an account re-enabled, a group
 * added back). Reconciliations run on their own; "Check now" runs one at once.
 */
function DriftsSection({ drifts, systems, employees, onChecked }: { drifts: readonly AccessDrift[]; systems: ReadonlyMap<string, string>; employees: ReadonlyMap<string, Employee>; onChecked: (message: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const check = () => {
    setBusy(true);
    setError(undefined);
    runReconciliation().then(
      (r) => {
        setBusy(false);
        const failed = r.systems.filter((s) => s.status !== 'ok');
        onChecked(
          `Checked ${r.systems.length} connected ${r.systems.length === 1 ? 'system' : 'systems'}: ${r.newDrifts} new ${r.newDrifts === 1 ? 'drift' : 'drifts'}, ${r.openDrifts} open.` +
            (failed.length ? ` Not fully read: ${failed.map((s) => `${systems.get(s.systemId) ?? s.systemId}${s.error ? ` (${s.error})` : ''}`).join('; ')}.` : ''),
        );
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return (
    <section aria-labelledby="drifts-h">
      <h2 id="drifts-h">Open drifts ({drifts.length})</h2>
      <p className="actions-row">
        <button type="button" className="secondary" onClick={check} disabled={busy}>
          {busy ? 'Checking connected systems…' : 'Check connected systems now'}
        </button>
      </p>
      <ErrorMessage error={error} />
      {drifts.length === 0 ? (
        <p>Every connected system matches what Access holds.</p>
      ) : (
        <DataTable label="Open drifts, newest first" className="wrap-anywhere" columns={['Employee', 'System', 'What differs', 'Found', 'Case']}>
          {drifts.map((d) => (
            <tr key={d.id}>
              <td>
                <Link to={AppPaths.employeeAccess(d.employeeId)}>{personName(employees, d.employeeId)}</Link>
              </td>
              <td>{systems.get(d.systemId) ?? d.systemId}</td>
              <td>
                <strong>{DRIFT_WORDS[d.kind](d.entitlement)}</strong>
                <br />
                <span className="muted">{d.detail}</span>
              </td>
              <td>
                <DateTime iso={d.detectedAt} />
              </td>
              <td>{d.resignationId ? <Link to={AppPaths.case(d.resignationId)}>Open the case</Link> : <span className="muted">None</span>}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
