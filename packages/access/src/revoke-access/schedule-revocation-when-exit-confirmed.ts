import { ExitConfirmed, EventSources, EventTypes } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import { ACCESS_SCHEMA } from '../db/access.db.ts';
import { byEvent } from '../audit/actor.ts';
import { logChange, requestRevocationInTransaction, type RevokeAccessDeps } from './revoke-access.ts';

export const SCHEDULE_REVOCATION_SUBSCRIBER = 'access.schedule-revocation-when-exit-confirmed';

/**
 * Choreography: HR confirmed the exit → Access schedules its own revocation of every remaining grant
 * at `revokeAt` (the end of the last working day, in the employee's time zone), on its durable timer.
 *
 * One transaction records the event as processed, schedules (or, for a higher revision, moves) the
 * revocation — the same core as POST /api/access-revocations — and publishes
 * `accessRevocationScheduled` when something changed. An event arriving after `revokeAt` is scheduled
 * all the same, and the timer revokes within one poll. An older revision arriving late, a redelivery,
 * or any event after the revocation is done changes nothing and publishes nothing.
 *
 * An employee unknown here (or a resignation already revoked for someone else) is a business failure:
 * `accessRevocationFailed`, no retry. A transient error thrown is retried by the bus; when it gives up, the dead
 * letter publishes the failure event.
 */
export function scheduleRevocationWhenExitConfirmed(deps: RevokeAccessDeps & { bus: EventBus }): Subscription {
  const { db, bus, log, clock } = deps;
  return {
    name: SCHEDULE_REVOCATION_SUBSCRIBER,
    types: [EventTypes.exitConfirmed],
    async handle(event) {
      const data = ExitConfirmed.parse(event.data);
      const outcome = await db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, ACCESS_SCHEMA, SCHEDULE_REVOCATION_SUBSCRIBER, event.id))) return undefined;
        const result = await requestRevocationInTransaction(
          trx,
          deps,
          {
            resignationId: data.resignationId,
            employeeId: data.employee.id,
            revokeAt: data.revokeAt,
            revision: data.revision,
            reason: `exit confirmed (last working day ${data.lastWorkingDay})`,
          },
          // The timer will revoke on behalf of whoever confirmed the exit.
          { trace: { correlationId: event.correlationid, traceparent: event.traceparent }, revokeWhenDue: false, by: byEvent(data.decidedBy) },
        );
        if ('refused' in result) await bus.publish(trx, [revocationFailed(event, data.resignationId, result.refused.message, clock.now())]);
        return result;
      });
      if (outcome === undefined) log.debug({ eventId: event.id }, 'exit-confirmed event already handled');
      else if ('refused' in outcome) log.warn({ eventId: event.id, resignationId: data.resignationId, reason: outcome.refused.message }, 'access revocation not scheduled');
      else if (outcome.change === 'none') log.info({ eventId: event.id, resignationId: data.resignationId, revision: data.revision }, 'exit confirmation changes no revocation');
      else logChange(log, outcome);
    },
    async onDeadLetter(event, reason) {
      const resignationId = ExitConfirmed.safeParse(event.data).data?.resignationId ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await db.transaction().execute((trx) => bus.publish(trx, [revocationFailed(event, resignationId, reason, clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up scheduling the access revocation');
    },
  };
}

/** The failure event; `cause` is the event reacted to (or, from the timer, the revocation it could not execute). */
export function revocationFailed(cause: { id: string; correlationid: string; traceparent?: string | undefined }, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.accessRevocationFailed,
    source: EventSources.access,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}
