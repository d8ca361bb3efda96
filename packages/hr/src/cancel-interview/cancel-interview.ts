import { isUniqueViolation, notFound } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { inviteEmails } from '../domain/calendar-invite.ts';
import { enqueueEmails } from '../deliver-invites/outbox.ts';
import { interviewForKey, rememberKey, type IdempotencyKey } from '../interviews/idempotency.ts';
import { inviteFor } from '../interviews/invite-parties.ts';
import { illegalTransition } from '../interviews/problems.ts';
import { toInterview, type InterviewRow } from '../interviews/interview.view.ts';

/**
 * Cancels an interview and sends everyone a METHOD:CANCEL for the same UID with SEQUENCE + 1, so
 * calendars remove the event. Cancelling a cancelled interview changes nothing and sends nothing;
 * a held interview cannot be cancelled (409). The slot is free again at once (the exclusion
 * constraint ignores cancelled interviews).
 */
export async function cancelInterview(ctx: HrContext, id: string, idempotencyKey?: string): Promise<hr.Interview> {
  const key: IdempotencyKey | undefined = idempotencyKey ? { key: idempotencyKey, operation: 'cancel', fingerprint: JSON.stringify([id]) } : undefined;
  const repeat = await interviewForKey(ctx.db, key);
  if (repeat) return toInterview(repeat);

  const now = ctx.clock.now();
  let result: { row: InterviewRow; queued: number[] };
  try {
    result = await ctx.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('interviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (!row) throw notFound(`No interview ${id}`);
      if (row.status === 'cancelled') return { row, queued: [] };
      if (row.status !== 'scheduled') throw illegalTransition(id, row.status, 'cancelled');

      const cancelled = await trx
        .updateTable('interviews')
        .set((eb) => ({ status: 'cancelled', sequence: eb('sequence', '+', 1), updated_at: now }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await rememberKey(trx, key, id, now);
      const queued = await enqueueEmails(trx, id, inviteEmails('CANCEL', await inviteFor(trx, cancelled), now));
      return { row: cancelled, queued };
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
