import { randomUUID } from 'node:crypto';
import { badRequest, conflict, isUniqueViolation, notFound } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrDb, HrTx } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { inviteEmails } from '../domain/calendar-invite.ts';
import { findFreeSlot, localDate } from '../domain/slots.ts';
import type { InviteNotSent } from '@ems/contracts/events';
import { storedInvitesNotSent, type QueuedEmail } from '../deliver-invites/outbox.ts';
import { refreshFollowUpTimer } from '../follow-up-exit-process/follow-up-timer.ts';
import { closedConflict, lockResignation } from '../interviews/exit-case.ts';
import { assertSameRequest, interviewForKey, type IdempotencyKey } from '../interviews/idempotency.ts';
import { availabilityOf } from '../interviews/partner-calendar.ts';
import { noFreeSlot, isOverlap, slotTakenConcurrently } from '../interviews/problems.ts';
import { toInterview, type InterviewRow } from '../interviews/interview.view.ts';
import type { EventCause } from '../interviews/event-cause.ts';
import { exitInterviewScheduled } from './schedule-interview.events.ts';
import { insertBooking, lockForBooking, readBookingFacts, type BookingFacts } from './booking.statements.ts';

/** A booking as the core leaves it: the interview, the invite rows it queued, and whether it is new. */
export interface Booking {
  row: InterviewRow;
  /** Outbox ids to deliver after commit (empty on a repeat). */
  queued: QueuedEmail[];
  /** The interview's current invites refused as they were queued (outbox.ts invitesNotSent), a repeat's too. */
  notSent: InviteNotSent[];
  created: boolean;
}

/**
 * Schedules the exit interview of a resignation with the employee's HR partner (the HTTP use case).
 *
 *   ┌ one transaction: bookInterview() ─────────────────────────────────────────┐
 *   │ repeat (same resignation or Idempotency-Key)? ──▶ the first booking (200)  │
 *   │ …else book, queue the invites, publish exit-interview-scheduled (201)      │
 *   └────────────────────────────────────────────────────────────────────────────┘
 *   deliver the invites now; if Notification is down the relay retries later
 */
export async function scheduleInterview(
  ctx: HrContext,
  request: hr.ScheduleInterviewRequest,
  meta: { idempotencyKey?: string | undefined; cause?: EventCause | undefined } = {},
): Promise<{ interview: hr.Interview; created: boolean }> {
  const key: IdempotencyKey | undefined = meta.idempotencyKey
    ? { key: meta.idempotencyKey, operation: 'schedule', fingerprint: JSON.stringify([request.resignationId, request.employeeId, request.lastWorkingDay]) }
    : undefined;
  const cause = meta.cause ?? { correlationId: request.resignationId };

  let booked: Booking;
  try {
    booked = await ctx.db.transaction().execute((trx) => bookInterview(ctx, trx, request, { key, cause }));
  } catch (err) {
    // The same resignation booked for another partner, or the same key used concurrently: answer as a repeat.
    if (isUniqueViolation(err)) {
      const winner = await findRepeat(ctx.db, request, key);
      if (winner) return { interview: toInterview(winner, await storedInvitesNotSent(ctx.db, winner)), created: false };
    }
    // Only reachable if a writer skipped the partner lock: the database still refuses the double booking.
    if (isOverlap(err)) throw slotTakenConcurrently();
    throw err;
  }

  if (booked.created) await ctx.invites.deliverNow(booked.queued);
  return { interview: toInterview(booked.row, booked.notSent), created: booked.created };
}

/**
 * The booking itself, in the caller's transaction, shared by the HTTP route and the
 * resignation-submitted subscriber. Business refusals are thrown as HttpProblems (4xx).
 *
 *   lock the resignation, then the employee's HR partner (one statement)
 *   read, after both locks, everything below in one statement (booking.statements.ts):
 *   repeat (same resignation or Idempotency-Key)? ──▶ the interview booked the first time
 *   resignation retained or withdrawn already (choreography)  (409)
 *   employee and HR partner from HR's own directory        (404 unknown, 409 already left)
 *   last working day not in the past                       (400)
 *   earliest free slot in both people's working hours before the last working day
 *     (409 none, saying why: too close, no shared hours, or the shared hours are taken)
 *   → insert the interview, its Idempotency-Key and its invites (employee + partner): one statement
 *   → publish exit-interview-scheduled (when a bus is configured) → move the follow-up timer
 *
 * Everything commits together or not at all: no booking without its invites and its event. Concurrent
 * bookings of one partner queue on the partner's lock, so each sees the slots the previous one took.
 */
export async function bookInterview(
  ctx: HrContext,
  trx: HrTx,
  request: hr.ScheduleInterviewRequest,
  options: { key?: IdempotencyKey | undefined; cause: EventCause },
): Promise<Booking> {
  const { key, cause } = options;
  const now = ctx.clock.now();
  const partnerId = await lockForBooking(trx, request.resignationId, request.employeeId);
  // Unknown employee: nothing to book, but the repeat and decision checks still read under the resignation's lock.
  if (partnerId === undefined) await lockResignation(trx, request.resignationId);
  const facts = await readBookingFacts(trx, request, key, partnerId, now);

  const repeat = repeatOf(facts, request, key);
  if (repeat) return { row: repeat, queued: [], notSent: await storedInvitesNotSent(trx, repeat), created: false };
  if (facts.decision === 'retained' || facts.decision === 'withdrawn') throw closedConflict(request.resignationId, facts.decision);

  const employee = facts.employee;
  if (!employee) throw notFound(`No employee ${request.employeeId}`);
  if (employee.status === 'left') throw conflict(`Employee ${employee.id} has already left; no exit interview can be scheduled`);
  if (request.lastWorkingDay < localDate(now, employee.timezone)) {
    throw badRequest(`lastWorkingDay ${request.lastWorkingDay} is in the past`);
  }
  const partner = facts.partner;
  // The partner locked is the employee's (a directory change in between: the caller's retry books afresh).
  if (!partner || partner.id !== employee.hr_partner_id) throw new Error(`HR partner ${employee.hr_partner_id} of ${employee.id} does not exist or just changed`);

  // A slot both people work: the partner's hours in the partner's zone, the employee's in theirs.
  const calendar = {
    timezone: partner.timezone,
    workingHours: { days: partner.work_days, start: partner.work_start, end: partner.work_end },
    busy: facts.busy,
    booked: facts.booked,
  };
  const attendee = availabilityOf(employee);
  const found = findFreeSlot(calendar, { now, lastWorkingDay: request.lastWorkingDay }, attendee);
  if (!found.found) {
    throw noFreeSlot(request.lastWorkingDay, found.reason, { partner: { name: partner.name, ...calendar }, employee: { name: employee.name, ...attendee } });
  }

  const id = randomUUID();
  const uid = `${id}@hr.ems`;
  const invite = {
    interviewId: id,
    resignationId: request.resignationId,
    uid,
    sequence: 0, // a new interview's (the column's default)
    start: found.slot.start,
    end: found.slot.end,
    employee: { name: employee.name, email: employee.email, timezone: employee.timezone },
    hrPartner: { name: partner.name, email: partner.email, timezone: partner.timezone },
  };
  const { row, queued, notSent } = await insertBooking(
    trx,
    {
      id,
      resignation_id: request.resignationId,
      employee_id: employee.id,
      hr_partner_id: partner.id,
      starts_at: found.slot.start,
      ends_at: found.slot.end,
      timezone: partner.timezone,
      last_working_day: request.lastWorkingDay,
      uid,
      created_at: now,
      updated_at: now,
    },
    key,
    inviteEmails('REQUEST', invite, now),
    ctx.log,
  );
  // Only a new booking is announced; a repeat was announced when it was booked.
  if (ctx.bus) await ctx.bus.publish(trx, [exitInterviewScheduled(row, cause, notSent)]);
  await refreshFollowUpTimer(ctx, trx, row.resignation_id);
  return { row, queued, notSent, created: true };
}

/** The interview a repeat of this request gets (by Idempotency-Key, else by resignation), from facts already read. */
function repeatOf(facts: BookingFacts, request: hr.ScheduleInterviewRequest, key: IdempotencyKey | undefined): InterviewRow | undefined {
  if (facts.key && key) {
    assertSameRequest(facts.key, key);
    return facts.existing;
  }
  const existing = facts.existing;
  if (existing && existing.employee_id !== request.employeeId) {
    throw conflict(`Resignation ${request.resignationId} already has an interview for employee ${existing.employee_id}`);
  }
  return existing;
}

/** After a unique violation (a twin committed first): the winner, read afresh. */
async function findRepeat(db: HrDb, request: hr.ScheduleInterviewRequest, key: IdempotencyKey | undefined): Promise<InterviewRow | undefined> {
  const keyed = await interviewForKey(db, key);
  if (keyed) return keyed;
  const existing = await db.selectFrom('interviews').selectAll().where('resignation_id', '=', request.resignationId).executeTakeFirst();
  if (existing && existing.employee_id !== request.employeeId) {
    throw conflict(`Resignation ${request.resignationId} already has an interview for employee ${existing.employee_id}`);
  }
  return existing;
}
