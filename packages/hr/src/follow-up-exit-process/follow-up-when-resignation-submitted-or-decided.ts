import { EventTypes, ExitConfirmed, ResignationRetained, ResignationSubmitted, type CloudEvent } from '@ems/contracts/events';
import { handledTogether, type Subscription } from '@ems/eventbus';
import { HR_SCHEMA, type Decision, type HrTx } from '../db/hr.db.ts';
import type { FollowUpPolicy } from '../domain/follow-ups.ts';
import type { HrContext } from '../hr.context.ts';
import { recordDecision, recordSubmission } from '../interviews/exit-case.ts';
import { refreshFollowUpTimer } from './follow-up-timer.ts';
import { PermanentError } from '@ems/platform';

export const FOLLOW_UP_SUBSCRIBER = 'hr.follow-up-exit-process';

/**
 * Deliveries handled at once in a process (the bus's default is 4), recorded together: in a burst each
 * submission was a transaction of its own.
 */
export const FOLLOW_UP_CONCURRENCY = 16;
/** Deliveries one of its workers fetches and records at once: one transaction, one fetch, one completion. */
export const FOLLOW_UP_BATCH = 8;

const DECISIONS: Readonly<Record<string, Decision>> = {
  [EventTypes.resignationRetained]: 'retained',
  [EventTypes.resignationWithdrawn]: 'withdrawn',
  [EventTypes.exitConfirmed]: 'exit_confirmed',
};

/**
 * Choreography: HR keeps, per resignation, the facts its follow-up timer needs, and sets the timer.
 *
 *   resignation-submitted ──▶ record employee, HR partner, submission instant, case correlation
 *                             → the timer is set to the first follow-up due
 *   retained / withdrawn / exit-confirmed ──▶ record the decision → no follow-up ever again
 *
 * Either may arrive first (separate queues); a decision heard first still stands when the
 * submission arrives. The poller (sendDueFollowUps) does the sending. The deliveries that arrive while it
 * writes are recorded in its next transaction (eventbus's handledTogether), each as if alone.
 */
export function followUpWhenResignationSubmittedOrDecided(ctx: HrContext & { followUpPolicy: FollowUpPolicy }): Subscription {
  const record = handledTogether({
    db: ctx.db,
    handle: (trx, event) => (event.type === EventTypes.resignationSubmitted ? submitted(trx, event) : decided(trx, event)),
    max: FOLLOW_UP_CONCURRENCY,
    // The deliveries of a transaction recorded processed by one statement (was one each).
    once: { schema: HR_SCHEMA, subscriber: FOLLOW_UP_SUBSCRIBER, seen: undefined },
  });
  return {
    name: FOLLOW_UP_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted, EventTypes.resignationRetained, EventTypes.resignationWithdrawn, EventTypes.exitConfirmed],
    concurrency: FOLLOW_UP_CONCURRENCY,
    batch: FOLLOW_UP_BATCH,

    async handle(event) {
      await record(event);
    },

    async onDeadLetter(event, reason) {
      // No event reports this: the case simply gets no follow-ups from HR. Replaying the dead letter fixes it.
      ctx.log.error({ eventId: event.id, type: event.type, reason }, 'gave up recording a resignation for its follow-ups');
    },
  };

  async function submitted(trx: HrTx, event: CloudEvent): Promise<void> {
    const data = ResignationSubmitted.parse(event.data);
    const written = await recordSubmission(trx, {
      resignationId: data.resignationId,
      employeeId: data.employee.id,
      employeeName: data.employee.name,
      hrPartnerId: data.hrPartnerId,
      submittedAt: new Date(data.submittedAt),
      correlationId: event.correlationid,
      traceparent: event.traceparent,
    });
    // The row it wrote is locked by this transaction: the timer is set from it, without reading it again.
    await refreshFollowUpTimer(ctx, trx, data.resignationId, written);
  }

  async function decided(trx: HrTx, event: CloudEvent): Promise<void> {
    const decision = DECISIONS[event.type];
    if (!decision) throw new PermanentError(`${FOLLOW_UP_SUBSCRIBER} cannot handle ${event.type}`);
    // Retained and withdrawn share one payload shape; exit-confirmed extends it.
    const data = (event.type === EventTypes.exitConfirmed ? ExitConfirmed : ResignationRetained).parse(event.data);
    await recordDecision(trx, { resignationId: data.resignationId, decision, decidedAt: new Date(data.decidedAt) });
  }
}
