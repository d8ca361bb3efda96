import { EventTypes, ResignationRetained, type CloudEvent } from '@ems/contracts/events';
import { firstDelivery, type EventBus, type Subscription } from '@ems/eventbus';
import { HR_SCHEMA } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { eventCause } from '../interviews/event-cause.ts';
import { cancelInterviewOnClose } from './cancel-interview-on-close.ts';
import { exitInterviewCancellationFailed } from './cancel-interview.events.ts';
import { PermanentError } from '@ems/platform';

export const CANCEL_INTERVIEW_SUBSCRIBER = 'hr.cancel-interview-when-resignation-closed';
/** Records, under its own name, that a dead letter's failure was announced (onDeadLetter may be called again). */
const DEAD_LETTER_RECORD = `${CANCEL_INTERVIEW_SUBSCRIBER}.dead-letter`;

const REASONS = { [EventTypes.resignationRetained]: 'retained', [EventTypes.resignationWithdrawn]: 'withdrawn' } as const;
// Retained and withdrawn share one payload shape.
const Closed = ResignationRetained;

/**
 * Choreography: an employee who stays (retained) or takes the resignation back (withdrawn) needs no
 * exit interview → the use case (cancel-interview-on-close.ts) in the transaction that marks the event
 * processed; a redelivery changes nothing. A technical error throws and the bus retries; when it gives
 * up, exit-interview-cancellation-failed.
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
        const done = await cancelInterviewOnClose(ctx, trx, { resignationId: data.resignationId, decision: reason, decidedAt: new Date(data.decidedAt) }, eventCause(event));
        return done.queued;
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
