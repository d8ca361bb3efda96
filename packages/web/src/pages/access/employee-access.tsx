import { useState } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { getEmployee, getEmployeeAccess, listAll, listHolds, listRevocations, type AccessHold, type EffectiveAccess, type Employee, type Revocation } from '../../api/access.ts';
import { Problem } from '../../api/client.ts';
import { DataTable } from '../../components/data-table.tsx';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, formatInstant, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { RevokeNow, Zoned } from './shared.tsx';

interface EmployeeAccessView {
  employee: Employee | undefined;
  access: EffectiveAccess;
  holds: AccessHold[];
  revocations: Revocation[];
}

async function loadEmployeeAccess(id: string, signal: AbortSignal): Promise<EmployeeAccessView> {
  const [employee, access, holds, revocations] = await Promise.all([
    getEmployee(id, signal).catch((err: unknown) => {
      // The directory may not know someone Access still has: show the grants under their id.
      if (err instanceof Problem && err.status === 404) return undefined;
      throw err;
    }),
    getEmployeeAccess(id, signal),
    listAll((q) => listHolds({ ...q, employeeId: id }, signal)),
    listAll((q) => listRevocations({ ...q, employeeId: id }, signal)),
  ]);
  return { employee, access, holds: holds.items.reverse(), revocations: revocations.items.reverse() };
}

const live = caseChanged();
const GRANT_WORDS: Record<EffectiveAccess['items'][number]['status'], string> = { active: 'Active', suspended: 'Suspended', revoked: 'Revoked' };

/** One employee's grants and where each stands (active, suspended by which hold, revoked), their holds and revocations. */
export function EmployeeAccessPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const session = useSession();
  const data = useResource((signal) => loadEmployeeAccess(id, signal), [id], live);
  const [done, setDone] = useState('');
  const v = data.data;
  const name = v?.employee?.name ?? id;
  const tz = v?.employee?.timezone;
  // Which active hold suspended a grant (a suspended grant is held by exactly one).
  const heldBy = new Map<string, AccessHold>();
  for (const h of v?.holds ?? []) if (h.status === 'active') for (const g of h.suspendedGrants) heldBy.set(g.grantId, h);
  const holdLabel = (h: AccessHold) => `hold of ${new Date(h.createdAt).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric', ...(tz ? { timeZone: tz } : {}) })}`;
  return (
    <Page title={v ? `Access of ${name}` : 'Employee access'}>
      <p>
        <Link to={AppPaths.access}>All holds and revocations</Link>
        {session.has('access_admin', 'operator') ? (
          <>
            {' · '}
            <Link to={`${AppPaths.accessAudit}?employeeId=${encodeURIComponent(id)}`}>Audit entries for {name}</Link>
          </>
        ) : null}
      </p>
      <div role="status" className={done ? 'notice' : undefined}>
        {done}
      </div>
      <ErrorMessage error={data.error} />
      {v === undefined ? (
        data.error ? null : <Loading what="Reading access" />
      ) : (
        <>
          {v.employee ? (
            <dl className="facts long">
              <dt>Employee</dt>
              <dd>
                {v.employee.name} ({v.employee.id}), {v.employee.title}, {v.employee.department.name}
              </dd>
              <dt>Time zone</dt>
              <dd>
                {v.employee.timezone} ({v.employee.location})
              </dd>
            </dl>
          ) : null}
          <section aria-labelledby="grants-h">
            <h2 id="grants-h">Grants ({v.access.items.length})</h2>
            {v.access.items.length === 0 ? (
              <p>{name} has no grants.</p>
            ) : (
              <DataTable label={`${name}'s grants, critical systems first`} columns={['System', 'Critical', 'Role', 'Status']}>
                {v.access.items.map((g) => {
                  const hold = g.status === 'suspended' ? heldBy.get(g.grantId) : undefined;
                  return (
                    <tr key={g.grantId}>
                      <td>{g.systemName}</td>
                      <td>{g.critical ? 'Critical' : 'No'}</td>
                      <td>{g.role}</td>
                      <td>
                        <span className={`badge badge-${g.status}`}>{GRANT_WORDS[g.status]}</span>
                        {hold ? (
                          <>
                            {' '}
                            by the <a href={`#hold-${hold.id}`}>{holdLabel(hold)}</a>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </DataTable>
            )}
          </section>

          <section aria-labelledby="holds-h">
            <h2 id="holds-h">Holds ({v.holds.length})</h2>
            {v.holds.length === 0 ? (
              <p>{name}'s access has never been put on hold.</p>
            ) : (
              <DataTable label={`${name}'s access holds, newest first`} columns={['Hold', 'Status', 'Suspended', 'Lifted', 'Case']}>
                {v.holds.map((h) => (
                  <tr key={h.id} id={`hold-${h.id}`}>
                    <td>
                      {holdLabel(h)}
                      <br />
                      <span className="muted">
                        since <DateTime iso={h.createdAt} {...(tz ? { timeZone: tz } : {})} />
                      </span>
                    </td>
                    <td>
                      <Status status={h.status} />
                    </td>
                    <td>{h.suspendedGrants.map((g) => g.system).join(', ') || <span className="muted">nothing (no critical access)</span>}</td>
                    <td>{h.releasedAt ? <DateTime iso={h.releasedAt} {...(tz ? { timeZone: tz } : {})} /> : 'Not yet'}</td>
                    <td>
                      <Link to={AppPaths.case(h.resignationId)}>Open the case</Link>
                    </td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>

          <section aria-labelledby="revocations-h">
            <h2 id="revocations-h">Revocations ({v.revocations.length})</h2>
            {v.revocations.length === 0 ? (
              <p>No revocation for {name}.</p>
            ) : (
              <ul className="plain stack">
                {v.revocations.map((r) => (
                  <li key={r.id} className="card">
                    <p>
                      <Status status={r.status} />{' '}
                      {r.status === 'scheduled' ? (
                        <>
                          Every grant will be revoked at <Zoned iso={r.revokeAt} timeZone={tz} />
                        </>
                      ) : r.status === 'done' ? (
                        <>
                          Revoked {r.doneAt ? <DateTime iso={r.doneAt} {...(tz ? { timeZone: tz } : {})} /> : null}: {r.revoked.map((g) => g.system).join(', ') || 'nothing was left'}
                        </>
                      ) : (
                        <>Cancelled (was due {formatInstant(r.revokeAt, tz)})</>
                      )}
                    </p>
                    <p>
                      <Link to={AppPaths.case(r.resignationId)}>Open the case</Link>
                    </p>
                    {r.status === 'scheduled' && session.has('access_admin') ? (
                      <RevokeNow
                        revocation={r}
                        employee={v.employee}
                        onDone={(m) => {
                          setDone(m);
                          data.reload();
                        }}
                      />
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </Page>
  );
}
