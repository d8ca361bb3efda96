import type { Subscription } from '@ems/eventbus';
import type { WebhookRow } from '../db/webhooks.db.ts';
import type { WebhooksContext } from '../webhooks.context.ts';
import { deliverEvent, recordDeadLetter } from './deliver-event.ts';

/** The bus subscriber of one webhook: its own queue, retries and dead letters. */
export function webhookSubscriberName(webhookId: string): string {
  return `webhooks.${webhookId}`;
}

/**
 * Each webhook is one subscription, so a receiver that is down only delays its own events:
 *
 *   event of a listed type ──▶ queue webhooks.<id> ──▶ POST signed CloudEvent ──▶ 2xx: done
 *                                     ▲                                   │
 *                                     └──── retry with backoff ◀── non-2xx / no answer
 *                                                                         │ after the last attempt
 *                                                                         ▼
 *                                                      dead letter (listed, replayable) + recorded
 */
export function deliverWhenEventPublished(
  ctx: WebhooksContext,
  webhook: Pick<WebhookRow, 'id' | 'event_types'>,
  retry?: { maxAttempts?: number; backoffMs?: number },
): Subscription {
  return {
    name: webhookSubscriberName(webhook.id),
    types: [...webhook.event_types],
    ...(retry ? { retry } : {}),
    handle: (event, delivery) => deliverEvent(ctx, webhook.id, event, delivery.attempt),
    onDeadLetter: (event, reason) => recordDeadLetter(ctx, webhook.id, event, reason),
  };
}
