import { EventTypes, ResignationRetained, type CloudEvent } from '@ems/contracts/events';
import { firstDelivery, type EventBus, type Subscription } from '@ems/eventbus';
import { HR_SCHEMA } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { eventCause } from '../interviews/event-cause.ts';
import { lockResignation, recordDecision } from '../interviews/exit-case.ts';
import { cancelScheduled } from './cancel-interview.ts';
import { exitInterviewCancellationFailed, exitInterviewCancelled, type CancellationSkipped } from './cancel-interview.events.ts';
import { PermanentError } from '@ems/platform';

export const CANCEL_INTERVIEW_SUBSCRIBER = 'hr.cancel-interview-when-resignation-closed';
/** Records, under its own name, that a dead letter's failure was announced (onDeadLetter may be called again). */
const DEAD_LETTER_RECORD = `${CANCEL_INTERVIEW_SUBSCRIBER}.dead-letter`;

const REASONS = { [EventTypes.resignationRetained]: 'retained', [EventTypes.resignationWithdrawn]: 'withdrawn' } as const;
// Retained and withdrawn share one payload shape.
const Closed = ResignationRetained;

/**
 * Choreography: an employee who stays (retained) or takes the resignation back (withdrawn) needs no
 * exit interview. HR cancels the one still scheduled, sending METHOD:CANCEL to both parties.
 *
 *   resignation-retained / -withdrawn ──▶ ┌ one transaction ───────────────────────────────────┐
 *                                         │ seen this event id before? → done (redelivery)     │
 *                                         │ lock the resignation (a booking waits, then sees   │
 *                                         │ the decision and refuses), record the decision     │
 *                                         │ scheduled → cancel, queue METHOD:CANCEL invites,   │
 *                                         │   exit-interview-cancelled {interviewId, reason}   │
 *                                         │ none / held / cancelled → exit-interview-cancelled │
 *                                         │   {skipped: 'no interview' | 'already held' | …}   │
 *                                         └────────────────────────────────────────────────────┘
 *                                         deliver the cancellations now (the relay retries)
 *
 * A technical error throws and the bus retries; when it gives up, exit-interview-cancellation-failed.
 */
export function cancelInterviewWhenResignationClosed(ctx: HrContext & { bus: EventBus }): Subscription {
  const { bus } = ctx;
  return {
    name: CANCEL_INTERVIEW_SUBSCRIBER,
    types: [EventTypes.resignationRetained, EventTypes.resignationWithdrawn],

    async handle(event) {
      const data = Closed.parse(event.data);
      const reason = reasonOf(event);
      const queued = await ctx.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, HR_SCHEMA, CANCEL_INTERVIEW_SUBSCRIBER, event.id))) return [];
        await lockResignation(trx, data.resignationId);
        const interview = await trx.selectFrom('interviews').selectAll().where('resignation_id', '=', data.resignationId).forUpdate().executeTakeFirst();
        await recordDecision(trx, { resignationId: data.resignationId, decision: reason, decidedAt: new Date(data.decidedAt) });

        if (interview?.status === 'scheduled') {
          const { queued } = await cancelScheduled(ctx, trx, interview, { reason, cause: eventCause(event) });
          return queued;
        }
        const skipped: CancellationSkipped = !interview ? 'no interview' : interview.status === 'held' ? 'already held' : 'already cancelled';
        ctx.log.info({ resignationId: data.resignationId, eventId: event.id, skipped }, 'no exit interview to cancel');
        await bus.publish(trx, [exitInterviewCancelled({ resignationId: data.resignationId, interviewId: interview?.id ?? null, reason, skipped }, eventCause(event), ctx.clock.now())]);
        return [];
      });
      await ctx.invites.deliverNow(queued);
    },

    async onDeadLetter(event, reason) {
      const resignationId = Closed.pick({ resignationId: true }).safeParse(event.data).data?.resignationId;
      if (!resignationId) {
        ctx.log.warn({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await ctx.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, HR_SCHEMA, DEAD_LETTER_RECORD, event.id))) return;
        await bus.publish(trx, [exitInterviewCancellationFailed(resignationId, `gave up after repeated errors: ${reason}`, event, ctx.clock.now())]);
      });
      ctx.log.error({ eventId: event.id, resignationId, reason }, 'gave up cancelling the exit interview');
    },
  };
}

function reasonOf(event: CloudEvent): 'retained' | 'withdrawn' {
  const reason = (REASONS as Record<string, 'retained' | 'withdrawn' | undefined>)[event.type];
  if (!reason) throw new PermanentError(`${CANCEL_INTERVIEW_SUBSCRIBER} cannot handle ${event.type}`);
  return reason;
}
