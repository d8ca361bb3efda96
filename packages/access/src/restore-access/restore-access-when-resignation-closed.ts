import { ResignationRetained, EventSources, EventTypes } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription, type TraceContext } from '@ems/eventbus';
import { ACCESS_SCHEMA } from '../db/access.db.ts';
import { byEvent } from '../audit/actor.ts';
import { logReleased, type ReleaseHoldDeps } from './release-hold.ts';
import { restoreAccess } from './restore-access.ts';

export const RESTORE_ACCESS_SUBSCRIBER = 'access.restore-access-when-resignation-closed';
/**
 * Its name before one name per action. The bus moves what still waits under it (queue or consumer, retries,
 * dead letters) at start; Access's migration 10 moves its processed-event records.
 */
export const RESTORE_ACCESS_FORMER_NAMES = ['access.lift-hold-when-resignation-closed'] as const;

/**
 * Choreography: the resignation is off (HR retained the employee, or the employee withdrew) → the use case
 * (restore-access.ts) in the transaction that records the event as processed; a redelivered event changes and
 * publishes nothing. A transient error thrown is retried by the bus; when it gives up, the dead letter
 * publishes `accessRestorationFailed`.
 */
export function restoreAccessWhenResignationClosed(deps: ReleaseHoldDeps & { bus: EventBus }): Subscription {
  const { db, bus, log, clock } = deps;
  return {
    name: RESTORE_ACCESS_SUBSCRIBER,
    formerNames: RESTORE_ACCESS_FORMER_NAMES,
    types: [EventTypes.resignationRetained, EventTypes.resignationWithdrawn],
    async handle(event) {
      // Retained and withdrawn carry the same payload.
      const data = ResignationRetained.parse(event.data);
      const why = event.type === EventTypes.resignationRetained ? 'resignation retained' : 'resignation withdrawn';
      const trace: TraceContext = { correlationId: event.correlationid, traceparent: event.traceparent };
      const outcome = await db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, ACCESS_SCHEMA, RESTORE_ACCESS_SUBSCRIBER, event.id))) return undefined;
        // Audited as the Access service reacting, on behalf of whoever decided (or withdrew).
        const lift = await restoreAccess(trx, deps, { resignationId: data.resignationId, employeeId: data.employee.id, why }, trace, byEvent(data.decidedBy));
        return lift.outcome === 'no hold' ? 'no hold' : lift.release;
      });
      if (outcome === undefined) log.debug({ eventId: event.id }, 'closed-resignation event already handled');
      else if (outcome === 'no hold') log.info({ eventId: event.id, resignationId: data.resignationId }, 'no access hold to lift');
      else {
        logReleased(log, outcome);
        if (outcome.released) deps.wakeConnectors?.();
      }
    },
    async onDeadLetter(event, reason) {
      const resignationId = ResignationRetained.safeParse(event.data).data?.resignationId ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await db.transaction().execute((trx) => bus.publish(trx, [restorationFailed(event, resignationId, reason, clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up lifting the access hold');
    },
  };
}

function restorationFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.accessRestorationFailed,
    source: EventSources.access,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}
