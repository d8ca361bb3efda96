/**
 * Revoking a leaver's access, as pure decisions (no I/O; the use cases load and store).
 *
 *   request ──▶ scheduled (revokeAt, revision) ──clock reaches revokeAt──▶ done: every remaining grant revoked
 *                  │  ▲
 *                  └──┘ a higher revision moves revokeAt (an older or equal one changes nothing)
 *
 * One revocation per resignation. Once done it is final: later requests only read it.
 */
import type { GrantChange, GrantState } from './hold.ts';

export type RevocationStatus = 'scheduled' | 'done' | 'cancelled';

/** Every grant not yet revoked (active or suspended, whoever suspended it) goes to `revoked`, in grant-id order. */
export function planRevocation(grants: readonly GrantState[]): GrantChange[] {
  return grants
    .filter((g) => g.status !== 'revoked')
    .map((g) => ({ grantId: g.id, systemId: g.systemId, from: g.status, to: 'revoked' as const }))
    .sort((a, b) => (a.grantId < b.grantId ? -1 : a.grantId > b.grantId ? 1 : 0));
}

/** Due when the clock has reached the instant (an instant in the past or now means "at once"). */
export function isDue(revokeAt: Date, now: Date): boolean {
  return revokeAt.getTime() <= now.getTime();
}

export interface ExistingRevocation {
  status: RevocationStatus;
  revokeAt: Date;
  revision: number;
}

export type RescheduleDecision =
  | { change: 'none'; why: 'already done' | 'cancelled' | 'not a newer revision' }
  /** A newer revision: record it, with its instant (`moved` when that differs from the one scheduled). */
  | { change: 'revise'; revokeAt: Date; revision: number; moved: boolean };

/**
 * What a request for a resignation that already has a revocation does. Only a still scheduled one
 * changes, and only for a higher revision: decisions can arrive late and out of order, and the
 * highest revision is the latest decision.
 */
export function decideReschedule(existing: ExistingRevocation, request: { revokeAt: Date; revision: number }): RescheduleDecision {
  if (existing.status === 'done') return { change: 'none', why: 'already done' };
  if (existing.status === 'cancelled') return { change: 'none', why: 'cancelled' };
  if (request.revision <= existing.revision) return { change: 'none', why: 'not a newer revision' };
  return { change: 'revise', revokeAt: request.revokeAt, revision: request.revision, moved: request.revokeAt.getTime() !== existing.revokeAt.getTime() };
}
