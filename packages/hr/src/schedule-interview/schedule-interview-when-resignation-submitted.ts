import { HttpProblem } from '@ems/platform';
import { EventTypes, ResignationSubmitted, type CloudEvent } from '@ems/contracts/events';
import { firstDelivery, type EventBus, type Subscription } from '@ems/eventbus';
import { HR_SCHEMA } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { eventCause } from '../interviews/event-cause.ts';
import { exitInterviewSchedulingFailed } from './schedule-interview.events.ts';
import { bookInterview } from './schedule-interview.ts';

export const SCHEDULE_INTERVIEW_SUBSCRIBER = 'hr.schedule-interview-when-resignation-submitted';

/**
 * Bookings at once in a process, all of them fetched, and completed, together: one worker of 8, one fetch and one
 * completion per 8 deliveries (two workers of 2 spent one of each per 2; one of 4, one per 4). Each booking keeps its
 * own transaction: it takes its HR partner's lock, and a transaction shared by bookings of several partners could take
 * those locks in an order that deadlocks. Measured (burst of 2,000, choreography), 4 → 8: commits per case 8.20–8.23 →
 * 7.54–7.63 (the invites then reach Notification in larger bunches: its reads, claims and HR's sent marks fell too),
 * the interview booked sooner (p99 26.9–28.6 s → 18.2–21.3 s).
 */
export const SCHEDULE_INTERVIEW_CONCURRENCY = 8;
export const SCHEDULE_INTERVIEW_BATCH = 8;

/**
 * Choreography: HR books the exit interview when an employee resigns — the same booking as
 * POST /api/interviews, driven by the event instead of a call.
 *
 *   resignation-submitted ──▶ ┌ one transaction ─────────────────────────────────────────┐
 *                             │ seen this event id before? → done (a redelivery)          │
 *                             │ book + queue invites + exit-interview-scheduled           │
 *                             │   or, on a business refusal, exit-interview-scheduling-   │
 *                             │   failed (unknown employee, no slot, day in the past)     │
 *                             └───────────────────────────────────────────────────────────┘
 *                             deliver the invites soon, in the background (the relay retries if
 *                             Notification is down, and takes over what a crash left)
 *
 * A technical error throws: nothing is recorded, and the bus retries with backoff. When it gives up,
 * onDeadLetter announces the failure, so the case never waits silently.
 */
export function scheduleInterviewWhenResignationSubmitted(ctx: HrContext & { bus: EventBus }): Subscription {
  const { bus } = ctx;
  return {
    name: SCHEDULE_INTERVIEW_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],
    concurrency: SCHEDULE_INTERVIEW_CONCURRENCY,
    batch: SCHEDULE_INTERVIEW_BATCH,

    async handle(event) {
      // The bus validated the payload already; parsing again gives the type without a cast.
      const data = ResignationSubmitted.parse(event.data);
      const request = { resignationId: data.resignationId, employeeId: data.employee.id, lastWorkingDay: data.lastWorkingDay };
      const queued = await ctx.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, HR_SCHEMA, SCHEDULE_INTERVIEW_SUBSCRIBER, event.id))) return [];
        try {
          const booking = await bookInterview(ctx, trx, request, { cause: eventCause(event) });
          return booking.queued;
        } catch (err) {
          // Refusals are decided in code before any failing statement, so the transaction is still
          // usable: the failure event commits together with the record that this event was handled.
          if (!isBusinessRefusal(err)) throw err;
          ctx.log.info({ resignationId: data.resignationId, eventId: event.id, reason: err.message }, 'exit interview cannot be scheduled');
          await bus.publish(trx, [exitInterviewSchedulingFailed(data.resignationId, err.message, event)]);
          return [];
        }
      });
      // In the background: the handler's slot is free for the next resignation at once.
      ctx.invites.deliverSoon(queued);
    },

    async onDeadLetter(event, reason) {
      const resignationId = resignationIdOf(event);
      if (!resignationId) {
        // Only an event that failed validation lacks it; there is no case to report the failure on.
        ctx.log.warn({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await ctx.db.transaction().execute((trx) => bus.publish(trx, [exitInterviewSchedulingFailed(resignationId, `gave up after repeated errors: ${reason}`, event)]));
    },
  };
}

/** A 4xx from the booking: retrying the same event cannot change the answer. */
function isBusinessRefusal(err: unknown): err is HttpProblem {
  return err instanceof HttpProblem && err.status >= 400 && err.status < 500;
}

function resignationIdOf(event: CloudEvent): string | undefined {
  const parsed = ResignationSubmitted.pick({ resignationId: true }).safeParse(event.data);
  return parsed.success ? parsed.data.resignationId : undefined;
}
