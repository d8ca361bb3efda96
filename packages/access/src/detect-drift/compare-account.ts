/**
 * Drift detection's core (pure: no I/O). What EMS believes about one person on one connected system,
 * set against what the system shows, decides one of three things:
 *
 *                       ┌─ a change EMS asked for is still on its way ──────────▶ nothing (wait)
 *   belief + state ─────┼─ outside any hold / revocation (phase open) ──────────▶ sync: EMS mirrors the system
 *                       └─ during a hold, after a revocation (phase held/revoked) ▶ drift: the system contradicts EMS
 *
 * Open: the system is the master of memberships. A membership EMS does not know becomes an active
 * grant ("discovered in <system>"), so that the next hold takes it away too; an active grant the system
 * no longer shows on the person's account is marked revoked ("removed in <system>"). An account the
 * system does not find changes nothing (the lookup may miss; see below). Neither is anyone's mistake: people change
 * teams. Syncing the removal (rather than reporting `entitlement_missing`) keeps EMS's picture exact
 * without paging the access administrator for routine work; a hold's restore that did not land is not
 * papered over, because its task is still pending (nothing) or already reported as failed by the
 * connector worker.
 *
 * Held / revoked: EMS must not rewrite its records behind a case (a release restores exactly what the
 * hold recorded), so every difference is reported, once, to the access administrator:
 * - account_enabled: the account can sign in although the hold or revocation locked it;
 * - entitlement_added: a membership EMS suspended or revoked is back, or one EMS never granted appeared;
 * - entitlement_missing: a grant EMS believes active (one the hold did not take) is gone.
 * An account that no longer exists, or is locked harder than asked, is not a drift.
 */
import type { GrantStatus } from '../domain/hold.ts';

/** Where the person stands on this system. */
export type AccountPhase =
  | { kind: 'open' }
  /** An active hold took at least one grant on this system (so EMS locked the account there). */
  | { kind: 'held'; holdId: string; resignationId: string }
  /** A done revocation took at least one grant on this system (so EMS locked the account there). */
  | { kind: 'revoked'; revocationId: string; resignationId: string };

export interface BelievedGrant {
  id: string;
  /** The system's name for it: the grant's role (an LDAP group DN, a SCIM group id…). */
  entitlement: string;
  status: GrantStatus;
}

/** What EMS believes about one person on one system. */
export interface AccountBelief {
  employeeId: string;
  systemId: string;
  phase: AccountPhase;
  grants: readonly BelievedGrant[];
  /** A connector task for this person and system is not done yet: the system is expected to differ. */
  changeInFlight: boolean;
}

/** What the system shows (the connector's AccountState). */
export interface ObservedAccount {
  exists: boolean;
  enabled: boolean;
  entitlements: readonly string[];
}

export type DriftKind = 'account_enabled' | 'entitlement_added' | 'entitlement_missing';

export interface DriftFinding {
  kind: DriftKind;
  /** The entitlement concerned; null for account_enabled. */
  entitlement: string | null;
  /** In words: what EMS expected and what the system showed. */
  detail: string;
}

export type AccountDecision =
  | { outcome: 'nothing'; why: 'in sync' | 'change in flight' }
  | {
      outcome: 'sync';
      /** Memberships to record as active grants: a known grant (grantId) back to active, or a new one (grantId null). */
      discovered: Array<{ entitlement: string; grantId: string | null; from: GrantStatus | null }>;
      /** Active grants the system no longer shows: to be marked revoked. */
      removed: Array<{ entitlement: string; grantId: string }>;
    }
  | {
      outcome: 'drift';
      /** The case whose hold or revocation the system contradicts. */
      resignationId: string;
      drifts: DriftFinding[];
    };

export function compareAccount(belief: AccountBelief, observed: ObservedAccount, systemName: string = belief.systemId): AccountDecision {
  if (belief.changeInFlight) return { outcome: 'nothing', why: 'change in flight' };
  const present = new Set(observed.exists ? observed.entitlements : []);
  const active = new Set(belief.grants.filter((g) => g.status === 'active').map((g) => g.entitlement));
  const added = [...present].filter((e) => !active.has(e)).sort();
  const missing = [...active].filter((e) => !present.has(e)).sort();
  const phase = belief.phase;

  if (phase.kind === 'open') {
    // No account found is no evidence that memberships were taken away: the lookup may miss (an email
    // changed in the directory before the system). Revoking the grants would leave the account out of
    // the person's next hold — the system would get no suspension at all. They stay, and a suspension
    // there fails saying it found no one.
    if (!observed.exists) return { outcome: 'nothing', why: 'in sync' };
    if (added.length === 0 && missing.length === 0) return { outcome: 'nothing', why: 'in sync' };
    return {
      outcome: 'sync',
      discovered: added.map((entitlement) => {
        // A grant EMS had for it (suspended or revoked) comes back rather than a second one for the same thing.
        const known = belief.grants.filter((g) => g.entitlement === entitlement).sort(byId)[0];
        return { entitlement, grantId: known?.id ?? null, from: known?.status ?? null };
      }),
      removed: missing.map((entitlement) => ({ entitlement, grantId: belief.grants.filter((g) => g.entitlement === entitlement && g.status === 'active').sort(byId)[0]!.id })),
    };
  }

  const why = phase.kind === 'held' ? `the access hold of resignation ${phase.resignationId}` : `the revocation of resignation ${phase.resignationId}`;
  const drifts: DriftFinding[] = [];
  if (observed.exists && observed.enabled) {
    drifts.push({ kind: 'account_enabled', entitlement: null, detail: `EMS locked the account in ${systemName} for ${why}; ${systemName} shows it enabled.` });
  }
  for (const entitlement of added) {
    const known = belief.grants.find((g) => g.entitlement === entitlement);
    const expected = known ? `EMS ${known.status === 'revoked' ? 'revoked' : 'suspended'} it` : 'EMS never granted it';
    drifts.push({ kind: 'entitlement_added', entitlement, detail: `${entitlement} is present in ${systemName} during ${why}; ${expected}.` });
  }
  for (const entitlement of missing) {
    drifts.push({ kind: 'entitlement_missing', entitlement, detail: `EMS believes ${entitlement} active in ${systemName} (${why} did not take it); ${systemName} does not show it.` });
  }
  if (drifts.length === 0) return { outcome: 'nothing', why: 'in sync' };
  return { outcome: 'drift', resignationId: phase.resignationId, drifts };
}

/** The key that names one drift: one open drift per (employee, system, kind, entitlement). */
export function driftKey(d: Pick<DriftFinding, 'kind' | 'entitlement'>): string {
  return `${d.kind}\u0000${d.entitlement ?? ''}`;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
