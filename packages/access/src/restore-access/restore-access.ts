import type { access } from '@ems/contracts';
import type { TraceContext } from '@ems/eventbus';
import type { AccessTx } from '../db/access.db.ts';
import { lockIdentity } from '../db/locks.ts';
import type { AuditBy } from '../audit/actor.ts';
import { accessRestoredEvent, releaseHoldInTransaction, type ReleaseHoldDeps, type ReleaseOutcome } from './release-hold.ts';

/**
 * The use case: a case is off (retained or withdrawn) → lift its hold. One core for both modes — the
 * choreography handler (restore-access-when-resignation-closed.ts) and the orchestrator's command
 * (POST /api/access-holds/lifts, restore-access.http.ts) — so both decide the same way:
 *
 *   in the caller's transaction: the employee's lock (as hold creation takes it: no hold appears between
 *   the look and the record)
 *     → the case's hold active: release it (restore, audit, accessRestored naming what came back)
 *     → released before (an admin, the revocation): nothing to restore — accessRestored, no grants
 *     → no hold yet: it may still come (an event retried, a dead letter replayed, a step's late retry):
 *       record one released, suspending nothing, so a hold asked for later answers this one instead of
 *       suspending access on a closed case — accessRestored {holdId: null}
 *   (an employee unknown to Access can never get a hold: nothing is recorded.)
 */
export type AccessRestoration = { outcome: 'no hold'; lifted: access.HoldLifted } | { outcome: 'released'; lifted: access.HoldLifted; release: ReleaseOutcome };

export async function restoreAccess(
  trx: AccessTx,
  deps: Pick<ReleaseHoldDeps, 'clock' | 'bus'>,
  closed: { resignationId: string; employeeId: string; why: string },
  trace: TraceContext,
  by: AuditBy,
): Promise<AccessRestoration> {
  const { resignationId, employeeId, why } = closed;
  const known = await lockIdentity(trx, employeeId);
  const hold = await trx.selectFrom('holds').select(['id', 'employee_id']).where('resignation_id', '=', resignationId).executeTakeFirst();
  if (!hold) {
    if (known) await recordReleasedHold(trx, deps, resignationId, employeeId, why);
    const lifted = { resignationId, employeeId, holdId: null, restored: [], skipped: [] };
    await deps.bus?.publish(trx, [accessRestoredEvent(lifted, trace, deps.clock.now())]);
    return { outcome: 'no hold', lifted };
  }
  const release = await releaseHoldInTransaction(trx, deps, hold, { reason: why }, trace, by);
  const lifted = { resignationId, employeeId: hold.employee_id, holdId: hold.id, restored: release.restored, skipped: release.skipped };
  // Released before: releaseHoldInTransaction published nothing; the case still hears its outcome.
  if (!release.released) await deps.bus?.publish(trx, [accessRestoredEvent(lifted, trace, deps.clock.now())]);
  return { outcome: 'released', lifted, release };
}

/**
 * Records the resignation's hold as released before it ever suspended anything, so a hold requested
 * late for this closed resignation answers this one instead of suspending access (the caller holds
 * the employee's lock).
 */
async function recordReleasedHold(trx: AccessTx, deps: Pick<ReleaseHoldDeps, 'clock'>, resignationId: string, employeeId: string, why: string): Promise<void> {
  const now = deps.clock.now();
  await trx
    .insertInto('holds')
    .values({
      id: crypto.randomUUID(),
      resignation_id: resignationId,
      employee_id: employeeId,
      status: 'released',
      reason: `${why} before any hold`,
      created_at: now,
      released_at: now,
      release_reason: why,
    })
    .execute();
}
