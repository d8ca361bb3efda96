import { EventSources, EventTypes, ResignationSubmitted } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, handledTogether, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { NOTIFICATION_SCHEMA } from '../db/notification.db.ts';
import { notifyManager, type DecideNotice } from './notify-manager.ts';

export const NOTIFY_MANAGER_SUBSCRIBER = 'notification.notify-manager-when-resignation-submitted';

/**
 * Notices at once in a process, all of them fetched, and completed, together: one worker of 8, one fetch and one
 * completion per 8 deliveries (two workers of 2 spent one of each per 2; one of 4, one per 4). The notices that arrive
 * together are stored in one transaction (eventbus's handledTogether: BEGIN, COMMIT and the processed marks shared;
 * each had a transaction of its own), each sent after that commit, in a send slot of its own (one found free then;
 * else it is claimed when one is). Measured (burst of 2,000, choreography), 4 → 8: statements per case 32.2–32.3 →
 * 30.7–31.0, commits 9.54–9.56 → 9.16–9.19, the manager notified sooner (p99 36.8–39.2 s → 32.8–36.4 s).
 */
export const NOTIFY_MANAGER_CONCURRENCY = 8;
export const NOTIFY_MANAGER_BATCH = 8;

/**
 * Choreography: an employee resigned → the use case (notify-manager.ts) in the transaction that marks the
 * event processed (shared with the deliveries that arrived with it; each as if alone). A notice that cannot be
 * rendered publishes managerNotificationFailed there (a business failure, no retry); anything thrown is retried
 * by the bus, and a dead letter publishes it too.
 */
export function notifyManagerWhenResignationSubmitted(ctx: NotificationContext & { bus: EventBus }, caseUrl: ((resignationId: string) => string) | undefined): Subscription {
  const { bus, log } = ctx;
  // Each delivery hands along what it decides in the shared transaction (the use case's `decide`), and gets its answer.
  const record = handledTogether({
    db: ctx.db,
    max: NOTIFY_MANAGER_CONCURRENCY,
    // A delivery seen before stores and sends nothing (was each notice's own check, a statement each).
    once: { schema: NOTIFICATION_SCHEMA, subscriber: NOTIFY_MANAGER_SUBSCRIBER, seen: { outcome: 'skipped' } },
    handle: (trx, _event, _prepared, decide: DecideNotice) => decide(trx),
  });
  return {
    name: NOTIFY_MANAGER_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],
    concurrency: NOTIFY_MANAGER_CONCURRENCY,
    batch: NOTIFY_MANAGER_BATCH,
    async handle(event) {
      const data = ResignationSubmitted.parse(event.data);
      const notice = await notifyManager(ctx, data, {
        caseUrl: caseUrl ? caseUrl(data.resignationId) : null,
        origin: { correlationId: event.correlationid, traceparent: event.traceparent, causationId: event.id },
        transaction: (decide) => record(event, decide),
        onUnrenderable: (trx, reason) => bus.publish(trx, [notificationFailed(event, data.resignationId, reason, ctx.clock.now())]),
      });
      if (notice.outcome === 'unrenderable') log.warn({ eventId: event.id, resignationId: data.resignationId, reason: notice.reason }, 'manager not notified');
    },
    async onDeadLetter(event, reason) {
      // The payload may be what made the event a dead letter: the subject names the case too.
      const resignationId = ResignationSubmitted.safeParse(event.data).data?.resignationId ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await ctx.db.transaction().execute((trx) => bus.publish(trx, [notificationFailed(event, resignationId, reason, ctx.clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up notifying the manager');
    },
  };
}

function notificationFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.managerNotificationFailed,
    source: EventSources.notification,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}
