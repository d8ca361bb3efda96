import { EventSources, EventTypes, ResignationSubmitted } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../context.ts';
import { NOTIFICATION_SCHEMA } from '../db/schema.ts';
import { managerNoticeRequest, noManagerEmailId } from '../domain/manager-notice.ts';
import { claimOnInsert } from '../deliver-email/deliver-email.ts';
import { deliverStored, storeEmail } from './send-email.ts';

export const NOTIFY_MANAGER_SUBSCRIBER = 'notification.notify-manager-when-resignation-submitted';

/**
 * Choreography: an employee resigned → tell their manager.
 *
 *   one transaction: mark the event processed ─► store the manager notice (queued, claimed by this
 *                    instance when a send slot is free)
 *                    (no manager: publish managerNotified { skipped: 'no manager' } instead)
 *   after commit:    try to deliver it now (the same fast path as POST /api/emails); the dispatcher
 *                    retries the rest, and the delivery publishes managerNotified / managerNotificationFailed
 *
 * A redelivered event finds its id already processed and changes nothing. Template data that cannot be
 * rendered is a business failure (managerNotificationFailed, no retry); anything thrown is retried by
 * the bus, and a dead letter publishes managerNotificationFailed.
 */
export function notifyManagerWhenResignationSubmitted(ctx: NotificationContext & { bus: EventBus }, caseUrl: ((resignationId: string) => string) | undefined): Subscription {
  const { bus, log } = ctx;
  return {
    name: NOTIFY_MANAGER_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],
    async handle(event) {
      const data = ResignationSubmitted.parse(event.data);
      const request = managerNoticeRequest(data, caseUrl ? caseUrl(data.resignationId) : null);
      const claim = request ? claimOnInsert(ctx) : undefined;
      const stored = await ctx.db
        .transaction()
        .execute(async (trx) => {
          if (!(await firstDelivery(trx, NOTIFICATION_SCHEMA, NOTIFY_MANAGER_SUBSCRIBER, event.id))) return undefined;
          if (!request) {
            await bus.publish(trx, [noManagerToNotify(event, data.resignationId, ctx.clock.now())]);
            return undefined;
          }
          const outcome = await storeEmail(trx, ctx.clock, request, undefined, { correlationId: event.correlationid, traceparent: event.traceparent, causationId: event.id }, claim);
          if (!outcome.ok) {
            const reason = `the manager notice cannot be rendered: ${outcome.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
            await bus.publish(trx, [notificationFailed(event, data.resignationId, reason, ctx.clock.now())]);
            log.warn({ eventId: event.id, resignationId: data.resignationId, reason }, 'manager not notified');
            return undefined;
          }
          return outcome.row;
        })
        .catch((err: unknown) => {
          // Rolled back: no email was stored, the claim's slot is free again.
          claim?.slot.release();
          throw err;
        });
      // Committed: the email exists, and so will its outcome event, whether sent now or by the dispatcher.
      if (stored) await deliverStored(ctx, stored, claim);
      else claim?.slot.release();
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

/** Nobody to tell: the reaction is done. emailId is derived from the case (see noManagerEmailId), no email exists. */
function noManagerToNotify(cause: CloudEvent, resignationId: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.managerNotified,
    source: EventSources.notification,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, emailId: noManagerEmailId(resignationId), to: '', messageId: null, skipped: 'no manager' },
  });
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
