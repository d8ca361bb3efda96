import { ResignationSubmitted, EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, firstDeliveries, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import { groupCommit } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import { ACCESS_SCHEMA, type AccessTx } from '../db/access.db.ts';
import { byEvent } from '../audit/actor.ts';
import { suspendAccessTogetherInTransaction, holdCommitted, type SuspendAccessDeps, type SuspendAccessOutcome } from './suspend-access.ts';
import { HOLD_TRANSACTIONS_AT_ONCE, MAX_HOLDS_TOGETHER } from './holds-together.ts';

export const SUSPEND_ACCESS_SUBSCRIBER = 'access.suspend-access-when-resignation-submitted';

/** The reason recorded on holds (and their audit entries) created from the event, as the orchestrator does. */
export const HOLD_REASON = 'resignation submitted';

/**
 * Deliveries of this subscriber handled at once in a process: they wait together, and are written together.
 * 64, not 32: with 32, in a burst of 2,000 the jobs waited p50 0.6–1.6 s to be fetched while the handler's
 * transactions were short; with 64, 0.09–0.11 s (README, "the lean path, seventh round").
 */
export const SUSPEND_ACCESS_CONCURRENCY = 64;
/**
 * Deliveries one worker fetches and hands over at once (8 workers): the deliveries of a batch go in one
 * transaction (gathered), and the batch is one fetch and one completion (was 2 at a time: 32 workers).
 */
export const SUSPEND_ACCESS_BATCH = 8;

/**
 * Choreography: an employee resigned → put their critical access on hold.
 *
 * One transaction records the event as processed, creates the hold (the same core as
 * POST /api/access-holds) and publishes its outcome — so a redelivered event changes nothing and
 * publishes nothing. An employee unknown here is a business failure: `criticalAccessSuspensionFailed`,
 * no retry. A transient error thrown (database down…) is retried by the bus; when it gives up, the dead letter
 * publishes the failure event.
 *
 * Deliveries handled at the same time share that transaction (platform's groupCommit, as the HTTP route's
 * holds do: holds-together.ts): in a burst a hold was its transaction's round trips, each waiting its turn,
 * with four deliveries at a time. Each delivery is still answered as its own; if the shared transaction
 * fails, each is tried alone, so one the database refuses fails (and is retried, dead-lettered) alone.
 */
export function suspendAccessWhenResignationSubmitted(deps: SuspendAccessDeps & { bus: EventBus }): Subscription {
  const { db, bus, log } = deps;
  type Delivery = { event: CloudEvent; data: EventData<typeof EventTypes.resignationSubmitted> };
  /** A delivery's outcome; undefined when the event was handled before (a redelivery). */
  type Handled = SuspendAccessOutcome | undefined;

  const handleInTransaction = async (trx: AccessTx, deliveries: readonly Delivery[]): Promise<Handled[]> => {
    const first = await firstDeliveries(trx, ACCESS_SCHEMA, SUSPEND_ACCESS_SUBSCRIBER, deliveries.map((d) => d.event.id));
    const fresh = deliveries.filter((_, i) => first[i]);
    const outcomes = await suspendAccessTogetherInTransaction(
      trx,
      deps,
      fresh.map(({ event, data }) => ({
        request: { resignationId: data.resignationId, employeeId: data.employee.id, reason: HOLD_REASON },
        idempotencyKey: undefined,
        trace: { correlationId: event.correlationid, traceparent: event.traceparent },
        // The submission names no decider: the Access service acts on its own account.
        by: byEvent(null),
      })),
    );
    const failures = fresh.flatMap(({ event, data }, k) => {
      const o = outcomes[k]!;
      return 'refused' in o ? [suspensionFailed(event, data.resignationId, o.refused.message, deps.clock.now())] : [];
    });
    if (failures.length > 0) await bus.publish(trx, failures);
    let k = 0;
    return first.map((isFirst) => (isFirst ? outcomes[k++] : undefined));
  };
  const handleTogether = groupCommit<Delivery, Handled>({
    max: MAX_HOLDS_TOGETHER,
    atOnce: HOLD_TRANSACTIONS_AT_ONCE,
    gather: true,
    together: async (deliveries) => (await db.transaction().execute((trx) => handleInTransaction(trx, deliveries))).map((value) => ({ ok: true, value })),
    alone: async (delivery) => (await db.transaction().execute((trx) => handleInTransaction(trx, [delivery])))[0],
  });

  return {
    name: SUSPEND_ACCESS_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],
    // Suspending access must never queue behind email work (issue 15: p99 ≤ 1 s in a burst): the bus
    // fetches and settles these deliveries on resources of their own.
    lane: 'critical',
    concurrency: SUSPEND_ACCESS_CONCURRENCY,
    batch: SUSPEND_ACCESS_BATCH,
    async handle(event) {
      const data = ResignationSubmitted.parse(event.data);
      const outcome = await handleTogether({ event, data });
      if (outcome === undefined) log.debug({ eventId: event.id }, 'resignation event already handled');
      else if ('refused' in outcome) log.warn({ eventId: event.id, resignationId: data.resignationId, reason: outcome.refused.message }, 'critical access not suspended');
      else holdCommitted(deps, outcome);
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
