/**
 * Access holds, as pure decisions over grant states (no I/O; the use cases load and store).
 *
 *   hold:    active grant on a critical system ──suspend──▶ suspended (by this hold)
 *   release: suspended by THIS hold ──restore──▶ its status before the hold
 *            (or, while another hold of the employee is active, stays suspended and moves to that hold)
 *
 * Anything else is somebody else's decision and is left alone: non-critical systems, grants already
 * suspended or revoked, and grants changed since the hold (revoked, or re-suspended for another reason).
 * A release says which grants of the hold it skipped, and why.
 */

export type GrantStatus = 'active' | 'suspended' | 'revoked';

export interface GrantState {
  id: string;
  systemId: string;
  status: GrantStatus;
  /** The hold that suspended this grant, while it is suspended by one. */
  suspendedByHold: string | null;
}

export interface SystemCriticality {
  id: string;
  critical: boolean;
}

/** One grant's status change, as it is applied and audited. */
export interface GrantChange {
  grantId: string;
  systemId: string;
  from: GrantStatus;
  to: GrantStatus;
}

/** A grant a hold suspended, with the status it had before. */
export interface HeldGrant {
  grantId: string;
  priorStatus: GrantStatus;
}

/**
 * The grants a new hold suspends: the active ones on critical systems, and only those.
 * A grant on a system we do not know is treated as critical: during an exit, failing closed is the safe side.
 */
export function planHold(grants: readonly GrantState[], systems: readonly SystemCriticality[]): GrantChange[] {
  const critical = new Map(systems.map((s) => [s.id, s.critical]));
  return grants
    .filter((g) => g.status === 'active' && (critical.get(g.systemId) ?? true))
    .map((g) => ({ grantId: g.id, systemId: g.systemId, from: g.status, to: 'suspended' as const }))
    .sort(byGrantId);
}

/** A grant the hold suspended that its release leaves as it is, and why. */
export interface SkippedGrant {
  grantId: string;
  /** null only when the grant no longer exists. */
  systemId: string | null;
  reason: string;
}

export interface ReleasePlan {
  /** Grants going back to the status they had before the hold. */
  restore: GrantChange[];
  /** Grants that stay suspended because another active hold of the employee now holds them. */
  handOver: GrantChange[];
  /** Every other grant the hold suspended: changed since for another reason, so not touched. */
  skipped: SkippedGrant[];
}

/**
 * What releasing a hold does: restore exactly the grants it suspended that are still suspended by it.
 * A grant revoked, re-activated or re-suspended by someone else since then is not touched. When the
 * employee has another active hold (`successorHoldId`), the grants stay suspended under that hold
 * instead, so releasing one case never re-opens access another case still holds closed.
 */
export function planRelease(input: {
  holdId: string;
  heldGrants: readonly HeldGrant[];
  current: readonly GrantState[];
  successorHoldId?: string | null;
}): ReleasePlan {
  const current = new Map(input.current.map((g) => [g.id, g]));
  const successor = input.successorHoldId && input.successorHoldId !== input.holdId ? input.successorHoldId : null;
  const plan: ReleasePlan = { restore: [], handOver: [], skipped: [] };
  for (const held of [...input.heldGrants].sort(byGrantId)) {
    const grant = current.get(held.grantId);
    if (!grant) {
      plan.skipped.push({ grantId: held.grantId, systemId: null, reason: 'the grant no longer exists' });
      continue;
    }
    const changedSince = whyNotOurs(grant, input.holdId);
    if (changedSince) {
      plan.skipped.push({ grantId: grant.id, systemId: grant.systemId, reason: changedSince });
    } else if (successor) {
      plan.handOver.push({ grantId: grant.id, systemId: grant.systemId, from: 'suspended', to: 'suspended' });
      plan.skipped.push({ grantId: grant.id, systemId: grant.systemId, reason: `still suspended by access hold ${successor}` });
    } else {
      plan.restore.push({ grantId: grant.id, systemId: grant.systemId, from: 'suspended', to: held.priorStatus });
    }
  }
  return plan;
}

/** Why a grant the hold suspended is no longer the hold's to restore; undefined while it is. */
function whyNotOurs(grant: GrantState, holdId: string): string | undefined {
  if (grant.status === 'revoked') return 'revoked since the hold';
  if (grant.status === 'active') return 're-activated since the hold';
  if (grant.suspendedByHold === null) return 'suspended since for another reason';
  if (grant.suspendedByHold !== holdId) return `suspended since by access hold ${grant.suspendedByHold}`;
  return undefined;
}

function byGrantId(a: { grantId: string }, b: { grantId: string }): number {
  return a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0;
}
