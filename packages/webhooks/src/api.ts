import { z } from 'zod';
import { IsoDateTime, ListOf, PageQuery, StorableLine, StorableText, Uuid } from '@ems/contracts';

/** The webhook service's HTTP API. */

export const Webhook = z
  .object({
    id: Uuid,
    url: z.string(),
    eventTypes: z.array(z.string()),
    description: z.string().nullable(),
    createdAt: IsoDateTime,
  })
  .meta({ id: 'Webhook', description: 'A URL that receives the events of the listed types, signed (see the webhook-signature header).' });
export type Webhook = z.infer<typeof Webhook>;

export const RegisteredWebhook = Webhook.extend({
  secret: z
    .string()
    .nullable()
    .optional()
    .describe(
      'The signing secret (`whsec_…`), shown once: only the answer that created the webhook (201) carries it — store it then. ' +
        'It is stored encrypted and never returned again: a repeat with the same Idempotency-Key answers 200 with `secret: null`, ' +
        'a repeat of the same registration without a key answers 200 without `secret`. Lost it? Delete the webhook and register it again.',
    ),
}).meta({ id: 'RegisteredWebhook' });
export type RegisteredWebhook = z.infer<typeof RegisteredWebhook>;

export const WebhookList = ListOf(Webhook).meta({ id: 'WebhookList' });
export type WebhookList = z.infer<typeof WebhookList>;

/** The body of POST /api/webhooks; `eventTypes` is narrowed to the catalogue's type names by the route. */
export const RegisterWebhookRequest = z
  .object({
    url: StorableLine.min(1).max(2000).describe('http:// or https:// URL that receives the events (POST)'),
    eventTypes: z.array(StorableLine.min(1).max(200)).min(1).max(100).describe('Event types to deliver, exact names from the event catalogue'),
    description: StorableText.max(500).optional(),
  })
  .meta({ id: 'RegisterWebhookRequest' });
export type RegisterWebhookRequest = z.infer<typeof RegisterWebhookRequest>;

export const DeliveryOutcome = z.enum(['delivered', 'failed', 'dead-lettered']);
export type DeliveryOutcome = z.infer<typeof DeliveryOutcome>;

export const WebhookDelivery = z
  .object({
    id: z.number().int(),
    webhookId: Uuid,
    eventId: z.string(),
    eventType: z.string(),
    /** 1 on the first attempt; the bus retries failed attempts with backoff. 0 for the dead-letter record. */
    attempt: z.number().int(),
    outcome: DeliveryOutcome,
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    at: IsoDateTime,
  })
  .meta({ id: 'WebhookDelivery', description: 'One attempt to deliver one event to one webhook, or the record that it was given up (dead-lettered).' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = ListOf(WebhookDelivery).meta({ id: 'WebhookDeliveryList' });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;
export const WebhookDeliveryListQuery = PageQuery.extend({ eventId: StorableLine.min(1).max(200).optional(), outcome: DeliveryOutcome.optional() });
export type WebhookDeliveryListQuery = z.infer<typeof WebhookDeliveryListQuery>;

export const WebhookPaths = {
  webhooks: '/api/webhooks',
  webhook: (id: string) => `/api/webhooks/${encodeURIComponent(id)}`,
  deliveries: (id: string) => `/api/webhooks/${encodeURIComponent(id)}/deliveries`,
} as const;
