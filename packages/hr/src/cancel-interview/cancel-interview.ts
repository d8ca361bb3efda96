import { isUniqueViolation, notFound } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { TraceContext } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import type { HrTx } from '../db/hr.db.ts';
import { inviteEmails } from '../domain/calendar-invite.ts';
import { enqueueEmails, type QueuedEmail } from '../deliver-invites/outbox.ts';
import { refreshFollowUpTimer } from '../follow-up-exit-process/follow-up-timer.ts';
import { httpCause, type EventCause } from '../interviews/event-cause.ts';
import { interviewForKey, rememberKey, type IdempotencyKey } from '../interviews/idempotency.ts';
import { inviteFor } from '../interviews/invite-parties.ts';
import { illegalTransition } from '../interviews/problems.ts';
import { toInterview, type InterviewRow } from '../interviews/interview.view.ts';
import { exitInterviewCancelled } from './cancel-interview.events.ts';

/** Why an HR partner's cancellation over HTTP happened, as exit-interview-cancelled tells it. */
export const CANCELLED_BY_HR = 'cancelled by HR';

/**
 * Cancels an interview over HTTP and sends everyone a METHOD:CANCEL for the same UID with
 * SEQUENCE + 1, so calendars remove the event. Cancelling a cancelled interview changes nothing and
 * sends nothing; a held interview cannot be cancelled (409). The slot is free again at once (the
 * exclusion constraint ignores cancelled interviews).
 */
export async function cancelInterview(ctx: HrContext, id: string, idempotencyKey?: string, trace: TraceContext = {}, reason: string = CANCELLED_BY_HR): Promise<hr.Interview> {
  const key: IdempotencyKey | undefined = idempotencyKey ? { key: idempotencyKey, operation: 'cancel', fingerprint: JSON.stringify([id]) } : undefined;
  const repeat = await interviewForKey(ctx.db, key);
  if (repeat) return toInterview(repeat);

  let result: { row: InterviewRow; queued: QueuedEmail[] };
  try {
    result = await ctx.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('interviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw notFound(`No interview ${id}`);
      if (row.status === 'cancelled') return { row, queued: [] };
      if (row.status !== 'scheduled') throw illegalTransition(id, row.status, 'cancelled');
      const cancelled = await cancelScheduled(ctx, trx, row, { reason, cause: httpCause(row.resignation_id, trace) });
      await rememberKey(trx, key, id, ctx.clock.now());
      return cancelled;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const winner = await interviewForKey(ctx.db, key);
      if (winner) return toInterview(winner);
    }
    throw err;
  }
  await ctx.invites.deliverNow(result.queued);
  return toInterview(result.row);
}

/**
 * The cancellation itself, in the caller's transaction, of an interview it locked and found
 * `scheduled`: bump SEQUENCE, queue the METHOD:CANCEL invites, publish exit-interview-cancelled
 * (when a bus is configured), move the case's follow-up timer. Returns the outbox rows to deliver
 * after commit.
 */
export async function cancelScheduled(
  ctx: HrContext,
  trx: HrTx,
  row: InterviewRow,
  options: { reason: string; cause: EventCause },
): Promise<{ row: InterviewRow; queued: QueuedEmail[] }> {
  if (row.status !== 'scheduled') throw new Error(`interview ${row.id} is ${row.status}, not scheduled`);
  const now = ctx.clock.now();
  const cancelled = await trx
    .updateTable('interviews')
    .set((eb) => ({ status: 'cancelled', sequence: eb('sequence', '+', 1), updated_at: now }))
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const { queued } = await enqueueEmails(trx, row.id, inviteEmails('CANCEL', await inviteFor(trx, cancelled), now), ctx.log);
  if (ctx.bus) {
    await ctx.bus.publish(trx, [exitInterviewCancelled({ resignationId: row.resignation_id, interviewId: row.id, reason: options.reason }, options.cause, now)]);
  }
  await refreshFollowUpTimer(ctx, trx, row.resignation_id);
  return { row: cancelled, queued };
}
