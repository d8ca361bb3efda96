/**
 * Access holds, as pure decisions over grant states (no I/O; the use cases load and store).
 *
 *   hold:    active grant on a critical system ──suspend──▶ suspended (by this hold)
 *   release: suspended by THIS hold ──restore──▶ its status before the hold
 *            (or, while another hold of the employee is active, stays suspended and moves to that hold)
 *
 * Anything else is somebody else's decision and is left alone: non-critical systems, grants already
 * suspended or revoked, and grants changed since the hold (revoked, or re-suspended for another reason).
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

export interface ReleasePlan {
  /** Grants going back to the status they had before the hold. */
  restore: GrantChange[];
  /** Grants that stay suspended because another active hold of the employee now holds them. */
  handOver: GrantChange[];
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
  const stillOurs = input.heldGrants
    .map((h) => ({ held: h, grant: current.get(h.grantId) }))
    .filter((x): x is { held: HeldGrant; grant: GrantState } => x.grant !== undefined && x.grant.status === 'suspended' && x.grant.suspendedByHold === input.holdId)
    .sort((a, b) => byGrantId(a.held, b.held));
  const successor = input.successorHoldId && input.successorHoldId !== input.holdId ? input.successorHoldId : null;
  if (successor) {
    return { restore: [], handOver: stillOurs.map(({ grant }) => ({ grantId: grant.id, systemId: grant.systemId, from: 'suspended', to: 'suspended' })) };
  }
  return { restore: stillOurs.map(({ held, grant }) => ({ grantId: grant.id, systemId: grant.systemId, from: 'suspended', to: held.priorStatus })), handOver: [] };
}

function byGrantId(a: { grantId: string }, b: { grantId: string }): number {
  return a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0;
}
