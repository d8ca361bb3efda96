import type { extensions } from '@ems/contracts';
import { EmsPaths } from '@ems/contracts/paths';
import { del, get, post, type Query } from './client.ts';
import type { Resignation, ResignationList } from './ems.ts';

/**
 * The operator's API: stuck cases, dead letters, webhooks, extensions, and the documents that describe
 * the API and the events. Dead letters (packages/ems/src/dead-letters) and webhooks (packages/webhooks/src/api.ts)
 * have no schema in @ems/contracts yet: their answers are typed here, field for field as those schemas say.
 */
export type Page<T> = { items: T[]; nextOffset: number | null };

/** An event a subscriber gave up on: why, after how many attempts, and the message as received. */
export interface DeadLetter {
  id: string;
  subscriber: string;
  eventId: string | null;
  eventType: string | null;
  reason: string;
  attempts: number;
  deadAt: string;
  /** Set once replayed; it is then no longer listed as open. */
  replayedAt: string | null;
  /** The message as received: a CloudEvent, or whatever was on the queue. */
  event: unknown;
}

export interface Webhook {
  id: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  createdAt: string;
}
/** The answer to a registration: the signing secret only in the answer that created it (shown once). */
export type RegisteredWebhook = Webhook & { secret?: string | null };
export interface RegisterWebhookRequest {
  url: string;
  eventTypes: string[];
  description?: string;
}
export type DeliveryOutcome = 'delivered' | 'failed' | 'dead-lettered';
export interface WebhookDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: string;
  /** 1 on the first attempt; 0 for the record that it was dead-lettered. */
  attempt: number;
  outcome: DeliveryOutcome;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  at: string;
}

const DeadLetterPaths = {
  list: '/api/dead-letters',
  one: (id: string) => `/api/dead-letters/${encodeURIComponent(id)}`,
  replay: (id: string) => `/api/dead-letters/${encodeURIComponent(id)}/replay`,
} as const;
const WebhookPaths = {
  webhooks: '/api/webhooks',
  webhook: (id: string) => `/api/webhooks/${encodeURIComponent(id)}`,
  deliveries: (id: string) => `/api/webhooks/${encodeURIComponent(id)}/deliveries`,
} as const;

/** Open cases with a step late or failed. */
export const listStuckCases = (query: Query, signal?: AbortSignal) => get<ResignationList>(EmsPaths.resignations, { ...query, status: 'stuck' }, signal);
export type { Resignation };

export const listDeadLetters = (query: Query, signal?: AbortSignal) => get<Page<DeadLetter>>(DeadLetterPaths.list, query, signal);
export const getDeadLetter = (id: string, signal?: AbortSignal) => get<DeadLetter>(DeadLetterPaths.one(id), undefined, signal);
/** Delivers the event to its subscriber again (idempotent: replaying twice is one replay). */
export const replayDeadLetter = (id: string) => post<DeadLetter>(DeadLetterPaths.replay(id));

export const listWebhooks = (query: Query, signal?: AbortSignal) => get<Page<Webhook>>(WebhookPaths.webhooks, query, signal);
export const getWebhook = (id: string, signal?: AbortSignal) => get<Webhook>(WebhookPaths.webhook(id), undefined, signal);
export const registerWebhook = (body: RegisterWebhookRequest, idempotencyKey: string) => post<RegisteredWebhook>(WebhookPaths.webhooks, body, { idempotencyKey });
export const deleteWebhook = (id: string) => del<void>(WebhookPaths.webhook(id));
export const listDeliveries = (id: string, query: Query, signal?: AbortSignal) => get<Page<WebhookDelivery>>(WebhookPaths.deliveries(id), query, signal);

/** An event type the bus knows (core and extensions'), from the AsyncAPI document. */
export interface EventTypeInfo {
  type: string;
  /** Who publishes it ("access publishes …"), when the document says. */
  publishedBy: string | null;
}

/** The event catalogue, as /asyncapi.json describes it: every type a webhook may ask for. */
export async function listEventTypes(signal?: AbortSignal): Promise<EventTypeInfo[]> {
  const doc = await get<{ channels?: Record<string, { address?: string }>; operations?: Record<string, { action?: string; channel?: { $ref?: string }; summary?: string }> }>('/asyncapi.json', undefined, signal);
  const publisher = new Map<string, string>();
  for (const op of Object.values(doc.operations ?? {})) {
    const channel = op.channel?.$ref?.split('/').pop();
    const who = op.summary?.match(/^(\S+) publishes /)?.[1];
    if (op.action === 'send' && channel && who) publisher.set(channel, who);
  }
  return Object.entries(doc.channels ?? {})
    .flatMap(([key, ch]) => (ch.address ? [{ type: ch.address, publishedBy: publisher.get(key) ?? null }] : []))
    .sort((a, b) => a.type.localeCompare(b.type));
}

/** An extension EMS loaded (EMS_EXTENSIONS): what it subscribes to, publishes and adds to the API. */
export type Extension = extensions.ExtensionInfo;
/** ExtensionPaths lives beside its zod schema (packages/contracts/src/extensions.ts): spelled here so no validator ships. */
const EXTENSIONS_PATH = '/api/extensions';
export const listExtensions = (signal?: AbortSignal) => get<extensions.ExtensionList>(EXTENSIONS_PATH, undefined, signal);
