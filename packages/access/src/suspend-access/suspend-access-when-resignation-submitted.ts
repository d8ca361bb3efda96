import { ResignationSubmitted, EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import { Uuid } from '@ems/contracts';
import { ACCESS_SCHEMA } from '../db/access.db.ts';
import { byEvent } from '../audit/actor.ts';
import { suspendAccessInTransaction, logCreated, type SuspendAccessDeps } from './suspend-access.ts';

export const SUSPEND_ACCESS_SUBSCRIBER = 'access.suspend-access-when-resignation-submitted';

/** The reason recorded on holds (and their audit entries) created from the event, as the orchestrator does. */
export const HOLD_REASON = 'resignation submitted';

/**
 * Choreography: an employee resigned → put their critical access on hold.
 *
 * One transaction records the event as processed, creates the hold (the same core as
 * POST /api/access-holds) and publishes its outcome — so a redelivered event changes nothing and
 * publishes nothing. An employee unknown here is a business failure: `criticalAccessSuspensionFailed`,
 * no retry. A transient error thrown (database down…) is retried by the bus; when it gives up, the dead letter
 * publishes the failure event.
 */
export function suspendAccessWhenResignationSubmitted(deps: SuspendAccessDeps & { bus: EventBus }): Subscription {
  const { db, bus, log } = deps;
  return {
    name: SUSPEND_ACCESS_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],
    // Suspending access must never queue behind email work (issue 15: p99 ≤ 1 s in a burst): the bus
    // fetches and settles these deliveries on resources of their own.
    lane: 'critical',
    async handle(event) {
      const data = ResignationSubmitted.parse(event.data);
      const outcome = await db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, ACCESS_SCHEMA, SUSPEND_ACCESS_SUBSCRIBER, event.id))) return undefined;
        const result = await suspendAccessInTransaction(
          trx,
          deps,
          { resignationId: data.resignationId, employeeId: data.employee.id, reason: HOLD_REASON },
          undefined,
          { correlationId: event.correlationid, traceparent: event.traceparent },
          // The submission names no decider: the Access service acts on its own account.
          byEvent(null),
        );
        if ('refused' in result) await bus.publish(trx, [suspensionFailed(event, data.resignationId, result.refused.message, deps.clock.now())]);
        return result;
      });
      if (outcome === undefined) log.debug({ eventId: event.id }, 'resignation event already handled');
      else if ('refused' in outcome) log.warn({ eventId: event.id, resignationId: data.resignationId, reason: outcome.refused.message }, 'critical access not suspended');
      else {
        logCreated(log, outcome);
        if (outcome.created) deps.wakeConnectors?.();
      }
    },
    async onDeadLetter(event, reason) {
      // The payload may be what made the event a dead letter: the subject names the case too.
      const resignationId = ResignationSubmitted.safeParse(event.data).data?.resignationId ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await db.transaction().execute((trx) => bus.publish(trx, [suspensionFailed(event, resignationId, reason, deps.clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up suspending critical access');
    },
  };
}

function suspensionFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.criticalAccessSuspensionFailed,
    source: EventSources.access,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}
