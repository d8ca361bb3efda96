import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import type { HrTx } from '../db/hr.db.ts';
import type { QueuedEmail } from '../deliver-invites/outbox.ts';
import type { EventCause } from '../interviews/event-cause.ts';
import { lockResignation, recordDecision } from '../interviews/exit-case.ts';
import { cancelScheduled } from './cancel-interview.ts';
import { exitInterviewCancelled } from './cancel-interview.events.ts';

/**
 * The use case: a resignation was retained or withdrawn → it needs no exit interview. One core for both
 * modes — the choreography handler (cancel-interview-when-resignation-closed.ts) and the orchestrator's
 * command (POST /api/hr/case-closures, cancel-interview.http.ts) — and so one set of skip reasons.
 *
 *   in the caller's transaction: lock the resignation (a booking waits, then sees the decision and refuses)
 *     → record the decision (no booking, no follow-up after it)
 *     → scheduled: cancel it, queue METHOD:CANCEL invites, exit-interview-cancelled {interviewId, reason}
 *     → none / held / cancelled: exit-interview-cancelled {skipped: 'no interview' | 'already held' | 'already cancelled'}
 *   after commit: the caller delivers `queued` (the relay retries)
 */
export async function cancelInterviewOnClose(
  ctx: HrContext,
  trx: HrTx,
  closed: { resignationId: string; decision: 'retained' | 'withdrawn'; decidedAt: Date },
  cause: EventCause,
): Promise<{ closure: hr.CaseClosure; queued: QueuedEmail[] }> {
  const { resignationId, decision } = closed;
  await lockResignation(trx, resignationId);
  const interview = await trx.selectFrom('interviews').selectAll().where('resignation_id', '=', resignationId).forUpdate().executeTakeFirst();
  await recordDecision(trx, { resignationId, decision, decidedAt: closed.decidedAt });

  if (interview?.status === 'scheduled') {
    const { queued } = await cancelScheduled(ctx, trx, interview, { reason: decision, cause });
    return { closure: { resignationId, interviewId: interview.id, cancelled: true, skipped: null }, queued };
  }
  const skipped: hr.CancellationSkipped = !interview ? 'no interview' : interview.status === 'held' ? 'already held' : 'already cancelled';
  ctx.log.info({ resignationId, skipped }, 'no exit interview to cancel');
  await ctx.bus?.publish(trx, [exitInterviewCancelled({ resignationId, interviewId: interview?.id ?? null, reason: decision, skipped }, cause, ctx.clock.now())]);
  return { closure: { resignationId, interviewId: interview?.id ?? null, cancelled: false, skipped }, queued: [] };
}
