import { EventTypes, ExitAccessSuspended, InvoluntaryExitsStarted } from '@ems/contracts/events';
import { firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { NOTIFICATION_SCHEMA } from '../db/notification.db.ts';
import { lockChunk, logTold, noticeChunkOf, tellChunkInTransaction } from './tell-exit.ts';

export const TELL_EXIT_SUBSCRIBER = 'notification.tell-exit-when-access-suspended';

/**
 * Choreography: involuntary exits started (who) + Access suspended their access (the go-ahead) → tell
 * each person told-able, and their manager.
 *
 *   involuntaryExitsStarted ─┐   one transaction each: mark the event processed, write its half into
 *   exitAccessSuspended ─────┴─▶ the chunk's row (locked) — the first to arrive waits there; the second
 *                                finds both halves and queues the notices, publishing exitNoticesSent
 *
 * Either order works, and nothing is emailed before the go-ahead: the people alone send nothing. Access's
 * event does not carry names and addresses (events carry what happened, not another service's context);
 * Notification keeps the started event's people for the chunk instead, until the go-ahead comes.
 */
export function tellExitWhenAccessSuspended(ctx: NotificationContext & { bus: EventBus }, caseUrl: ((resignationId: string) => string) | undefined): Subscription {
  const { log } = ctx;
  return {
    name: TELL_EXIT_SUBSCRIBER,
    // One chunk at a time, so Access's suspensions of the other chunks (critical lane) get the CPU first:
    // measured in bench/README.md (a mass exit of 10,000).
    concurrency: 1,
    types: [EventTypes.involuntaryExitsStarted, EventTypes.exitAccessSuspended],
    async handle(event) {
      const started = event.type === EventTypes.involuntaryExitsStarted ? InvoluntaryExitsStarted.parse(event.data) : undefined;
      const suspended = started ? undefined : ExitAccessSuspended.parse(event.data);
      const key = started ?? suspended!;
      const half = started ? { started } : { suspended: suspended! };
      const result = await ctx.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, NOTIFICATION_SCHEMA, TELL_EXIT_SUBSCRIBER, event.id))) return undefined;
        const row = await lockChunk(trx, ctx, key, half);
        if (row.outcome || !row.started || !row.suspended) return undefined;
        return tellChunkInTransaction(trx, ctx, noticeChunkOf(row.started, row.suspended), { trace: traceOf(event), causationId: event.id, caseUrl });
      });
      if (result) logTold(ctx, result);
      else log.debug({ eventId: event.id, batchId: key.batchId, chunk: key.chunk }, 'exit notices: waiting for the other half of the chunk, or told already');
    },
  };
}

const traceOf = (event: CloudEvent) => ({ correlationId: event.correlationid, traceparent: event.traceparent });
