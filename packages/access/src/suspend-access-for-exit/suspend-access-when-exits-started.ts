import { EventTypes, InvoluntaryExitsStarted } from '@ems/contracts/events';
import { firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import { ACCESS_SCHEMA } from '../db/access.db.ts';
import { byEvent } from '../audit/actor.ts';
import { afterCommit, exitAccessSuspendedEvent, suspendAccessForExitInTransaction, type SuspendAccessForExitDeps } from './suspend-access-for-exit.ts';

export const SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER = 'access.suspend-access-when-exits-started';

/**
 * Choreography: HR started involuntary exits (one chunk) → suspend every grant of each person and
 * schedule each revocation.
 *
 * One transaction records the event as processed and runs the core (the same as POST
 * /api/access/exit-suspensions), which publishes exitAccessSuspended — so a redelivered event changes
 * nothing, and the same chunk asked for over HTTP as well answers the recorded outcome. A transient error
 * is retried by the bus; when it gives up, the dead letter reports every person of the chunk as failed
 * (once per chunk), so the cases and Notification do not wait for ever.
 */
export function suspendAccessWhenExitsStarted(deps: SuspendAccessForExitDeps & { bus: EventBus }): Subscription {
  const { db, bus, log, clock } = deps;
  return {
    name: SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER,
    types: [EventTypes.involuntaryExitsStarted],
    // Critical access first: an exit's chunks are fetched and settled on the bus's critical lane, never
    // behind the notices of chunks already suspended. Several chunks at once (each one transaction, their
    // audit entries linked into the chain by the sealer after commit: nothing here takes turns).
    lane: 'critical',
    concurrency: 4,
    async handle(event) {
      const chunk = InvoluntaryExitsStarted.parse(event.data);
      const result = await db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, ACCESS_SCHEMA, SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER, event.id))) return undefined;
        // The event names no decider: the Access service acts on its own account.
        return suspendAccessForExitInTransaction(trx, deps, chunk, () => byEvent(null), traceOf(event));
      });
      if (result === undefined) log.debug({ eventId: event.id }, 'involuntary-exits event already handled');
      else afterCommit(deps, result);
    },
    async onDeadLetter(event, reason) {
      const chunk = InvoluntaryExitsStarted.safeParse(event.data).data;
      if (!chunk) {
        log.error({ eventId: event.id, reason }, 'dead-lettered involuntary-exits event is unreadable; no failure event published');
        return;
      }
      const outcome = {
        batchId: chunk.batchId,
        chunk: chunk.chunk,
        suspended: [],
        failed: chunk.exits.map((e) => ({ resignationId: e.resignationId, employeeId: e.employeeId, reason: `access not suspended: ${reason}`.slice(0, 2000) })),
      };
      const now = clock.now();
      await db.transaction().execute(async (trx) => {
        // Once per chunk: a chunk suspended meanwhile (over HTTP) keeps its outcome, already published.
        const recorded = await trx
          .insertInto('exit_suspensions')
          .values({ batch_id: chunk.batchId, chunk: chunk.chunk, created_at: now, outcome: JSON.stringify(outcome) })
          .onConflict((oc) => oc.doNothing())
          .returning('batch_id')
          .executeTakeFirst();
        if (recorded) await bus.publish(trx, [exitAccessSuspendedEvent(outcome, traceOf(event), now)]);
      });
      log.error({ eventId: event.id, batchId: chunk.batchId, chunk: chunk.chunk, reason }, 'gave up suspending access for an exit chunk');
    },
  };
}

const traceOf = (event: CloudEvent) => ({ correlationId: event.correlationid, traceparent: event.traceparent });
