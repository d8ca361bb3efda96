import { useMemo } from 'react';
import { listSystems, type AccessSystem } from '../../api/access.ts';
import type { Resignation } from '../../api/ems.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, formatInstant, Loading } from '../../components/ui.tsx';

type CaseSystem = Resignation['systems'][number];
type CaseDrift = Resignation['drifts'][number];

const ACTION_WORDS: Record<CaseSystem['action'], string> = { suspend: 'Suspend access', restore: 'Restore access', revoke: 'Revoke access' };
const STATUS: Record<CaseSystem['status'], string> = { done: 'Done', retrying: 'Retrying', failed: 'Failed' };
const CONNECTOR_WORDS: Record<string, string> = { ldap: 'LDAP directory', scim: 'SCIM', http: 'signed HTTP', builtin: 'built-in' };
const DRIFT_WORDS: Record<CaseDrift['kind'], (entitlement: string | null) => string> = {
  account_enabled: () => 'Account re-enabled',
  entitlement_added: (e) => `${e ?? 'An entitlement'} added`,
  entitlement_missing: (e) => `${e ?? 'An entitlement'} missing`,
};

/** Whether connected systems reported anything about the case. */
export const touchesSystems = (c: Resignation | undefined): boolean => Boolean(c && (c.systems.length > 0 || c.drifts.length > 0));

/**
 * System id → name, read once the case touches a connected system (anyone signed in may list the systems);
 * empty until then, or if it fails: ids stand in. Undefined while the list is on its way: what names a
 * system waits for it rather than show an id that turns into a name a moment later.
 */
export function useSystemNames(c: Resignation | undefined): ReadonlyMap<string, string> | undefined {
  const wanted = touchesSystems(c);
  const systems = useResource((signal) => (wanted ? listSystems(signal) : Promise.resolve(undefined)), [wanted]);
  // Right after the case first touches a system, the list's load has not even begun (loading is still false).
  const pending = wanted && systems.data === undefined && systems.error === undefined;
  const names = useMemo(() => new Map((systems.data?.items ?? []).map((s: AccessSystem) => [s.id, s.name])), [systems.data]);
  return pending ? undefined : names;
}

/** A timeline entry about a connected system names it (the API's sentence has its id: events carry no names). */
export function withSystemName(summary: string, detail: Record<string, unknown>, names: ReadonlyMap<string, string> | undefined): string {
  const id = detail.systemId;
  const name = typeof id === 'string' ? names?.get(id) : undefined;
  return typeof id === 'string' && name ? summary.replace(id, name) : summary;
}

/** A system's own words as a sentence: a full stop unless it has one. */
const sentence = (text: string | null): string => (text ? (/[.!?]$/.test(text) ? text : `${text}.`) : '');

export const connectorWords = (type: string): string => CONNECTOR_WORDS[type] ?? type;

/**
 * What each connected system (LDAP, SCIM, HTTP) did for the case — verified, retrying or given up, with the
 * system's own words — and any drift a reconciliation found against the hold or the revocation.
 */
export function ConnectedSystems({ c, zone, names }: { c: Resignation; zone: string | undefined; names: ReadonlyMap<string, string> | undefined }) {
  if (!touchesSystems(c)) return null;
  if (names === undefined) {
    return (
      <section aria-labelledby="case-systems">
        <h2 id="case-systems">Connected systems</h2>
        <Loading what="Loading the connected systems" />
      </section>
    );
  }
  const name = (id: string) => names.get(id) ?? id;
  const at = (iso: string | null) => formatInstant(iso, zone);
  const when = c.status === 'exited' ? 'after the revocation' : 'during the hold';
  return (
    <section aria-labelledby="case-systems">
      <h2 id="case-systems">Connected systems</h2>
      {c.drifts.length > 0 ? (
        <div className="notice wrap-anywhere">
          <h3>Drift found</h3>
          <ul className="plain">
            {c.drifts.map((d) => (
              <li key={d.driftId}>
                <strong>
                  {DRIFT_WORDS[d.kind](d.entitlement)} in {name(d.systemId)} {when}.
                </strong>{' '}
                {d.detail} <span className="muted">Found {at(d.detectedAt)}; IT's access administrators were told.</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {c.systems.length > 0 ? (
        <ol className="steps wrap-anywhere">
          {c.systems.map((s) => (
            <li key={s.changeId} className={`step step-${s.status === 'retrying' ? 'late' : s.status}`}>
              <h3>
                {name(s.systemId)}: {ACTION_WORDS[s.action].toLowerCase()} <span className={`badge badge-${s.status === 'retrying' ? 'late' : s.status}`}>{STATUS[s.status]}</span>
              </h3>
              <p>
                {s.status === 'done' ? (
                  <>
                    Verified: {sentence(s.verification)} <span className="muted">Done <DateTime iso={s.at} {...(zone ? { timeZone: zone } : {})} />.</span>
                  </>
                ) : s.status === 'retrying' ? (
                  <>
                    Attempt {s.attempts} failed: {sentence(s.error)} <span className="late-text">Access tries again{s.retryAt ? ` at ${at(s.retryAt)}` : ''}.</span>
                  </>
                ) : (
                  <>
                    Failed{s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}: {sentence(s.error)} Access gave up: IT must make this change by hand.
                  </>
                )}
              </p>
              <p className="muted">
                {connectorWords(s.connector)}
                {s.entitlements.length ? ` · ${s.entitlements.length === 1 ? 'entitlement' : 'entitlements'}: ${s.entitlements.join(', ')}` : ''}
              </p>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
