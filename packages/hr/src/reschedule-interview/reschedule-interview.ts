import { isUniqueViolation, notFound } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { inviteEmails } from '../domain/calendar-invite.ts';
import { checkSlot, findFreeSlot, type Slot } from '../domain/slots.ts';
import type { InviteNotSent } from '@ems/contracts/events';
import { enqueueEmails, storedInvitesNotSent, type QueuedEmail } from '../deliver-invites/outbox.ts';
import { refreshFollowUpTimer } from '../follow-up-exit-process/follow-up-timer.ts';
import { interviewForKey, rememberKey, type IdempotencyKey } from '../interviews/idempotency.ts';
import { inviteFor } from '../interviews/invite-parties.ts';
import { availabilityOf, lockPartnerCalendar } from '../interviews/partner-calendar.ts';
import { illegalTransition, noFreeSlot, slotUnavailable, isOverlap, slotTakenConcurrently } from '../interviews/problems.ts';
import { toInterview, type InterviewRow } from '../interviews/interview.view.ts';

export interface RescheduleRequest {
  /** A specific start; omitted → the next free slot after the current one. */
  start?: string | undefined;
}

/**
 * Moves a scheduled interview to another slot and sends everyone an updated invite (same UID,
 * SEQUENCE + 1), so their calendars move the event rather than add a second one.
 *
 *   repeat of an Idempotency-Key ──▶ the interview as it is (200, nothing sent)
 *   ┌ one transaction ───────────────────────────────────────────────────────────┐
 *   │ lock the partner, then the interview; only `scheduled` can move      (409) │
 *   │ given start: must be a free 30-min slot in working hours             (409) │
 *   │   (the same start as now: nothing changes, nothing is sent)                │
 *   │ no start: the next free slot after the current one                   (409) │
 *   │ → move, bump SEQUENCE, queue the new invites, move the follow-up timer     │
 *   └────────────────────────────────────────────────────────────────────────────┘
 *   deliver the invites now; the relay retries if Notification is down
 */
export async function rescheduleInterview(ctx: HrContext, id: string, request: RescheduleRequest, idempotencyKey?: string): Promise<hr.Interview> {
  const requestedStart = request.start === undefined ? undefined : new Date(request.start);
  const key: IdempotencyKey | undefined = idempotencyKey
    ? { key: idempotencyKey, operation: 'reschedule', fingerprint: JSON.stringify([id, requestedStart?.toISOString() ?? null]) }
    : undefined;

  const repeat = await interviewForKey(ctx.db, key);
  if (repeat) return toInterview(repeat, await storedInvitesNotSent(ctx.db, repeat));
  const current = await ctx.db.selectFrom('interviews').select(['hr_partner_id', 'last_working_day']).where('id', '=', id).executeTakeFirst();
  if (!current) throw notFound(`No interview ${id}`);

  const now = ctx.clock.now();
  let result: { row: InterviewRow; queued: QueuedEmail[]; notSent: InviteNotSent[] };
  try {
    result = await ctx.db.transaction().execute(async (trx) => {
      // Partner first, then the interview: the same order as booking, so the two never deadlock.
      const locked = await lockPartnerCalendar(trx, current.hr_partner_id, { now, lastWorkingDay: current.last_working_day, excludeInterviewId: id });
      const row = await trx.selectFrom('interviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
      const twin = await interviewForKey(trx, key);
      if (twin) return { row: twin, queued: [], notSent: await storedInvitesNotSent(trx, twin) };
      if (!locked) throw new Error(`HR partner ${current.hr_partner_id} does not exist`);
      if (row.status !== 'scheduled') throw illegalTransition(id, row.status, 'rescheduled');

      const search = { now, lastWorkingDay: row.last_working_day };
      const employee = await trx.selectFrom('employees').select(['name', 'timezone', 'work_days', 'work_start', 'work_end']).where('id', '=', row.employee_id).executeTakeFirstOrThrow();
      const attendee = availabilityOf(employee);
      let slot: Slot;
      if (requestedStart) {
        if (requestedStart.getTime() === row.starts_at.getTime()) {
          await rememberKey(trx, key, id, now);
          return { row, queued: [], notSent: await storedInvitesNotSent(trx, row) };
        }
        const check = checkSlot(locked.calendar, search, requestedStart, attendee);
        if (!check.ok) throw slotUnavailable(request.start ?? '', check.reason);
        slot = check.slot;
      } else {
        const found = findFreeSlot(locked.calendar, { ...search, after: row.starts_at }, attendee);
        if (!found.found) {
          throw noFreeSlot(row.last_working_day, found.reason, { partner: { name: locked.partner.name, ...locked.calendar }, employee: { name: employee.name, ...attendee } });
        }
        slot = found.slot;
      }

      const moved = await trx
        .updateTable('interviews')
        .set((eb) => ({ starts_at: slot.start, ends_at: slot.end, sequence: eb('sequence', '+', 1), updated_at: now }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await rememberKey(trx, key, id, now);
      const { queued, notSent } = await enqueueEmails(trx, id, inviteEmails('REQUEST', await inviteFor(trx, moved), now), ctx.log);
      await refreshFollowUpTimer(ctx, trx, moved.resignation_id);
      return { row: moved, queued, notSent };
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      const winner = await interviewForKey(ctx.db, key);
      if (winner) return toInterview(winner, await storedInvitesNotSent(ctx.db, winner));
    }
    // Only reachable if a writer skipped the partner lock: the database still refuses the double booking.
    if (isOverlap(err)) throw slotTakenConcurrently();
    throw err;
  }
  await ctx.invites.deliverNow(result.queued);
  return toInterview(result.row, result.notSent);
}
