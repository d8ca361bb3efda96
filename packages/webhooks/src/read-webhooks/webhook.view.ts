import type { Webhook, WebhookDelivery } from '../api.ts';
import type { DeliveryRow, WebhookRow } from '../db/webhooks.db.ts';

/** Row → API shape. Never includes the secret: that is shown once, by the registration. */
export function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    eventTypes: [...row.event_types],
    description: row.description,
    createdAt: row.created_at.toISOString(),
  };
}

export function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    attempt: row.attempt,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    durationMs: row.duration_ms,
    at: row.at.toISOString(),
  };
}
