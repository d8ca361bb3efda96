import { PermanentError, signWebhook } from '@ems/platform';
import type { CloudEvent } from '@ems/eventbus';
import type { DeliveryOutcome } from '../api.ts';
import { openSecret, UnreadableSecretError } from '../domain/secret-at-rest.ts';
import type { WebhooksContext } from '../webhooks.context.ts';
import { postWebhook, TargetRefusedError } from './post-webhook.ts';

export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
const USER_AGENT = 'EMS-Webhooks/1.0';

/**
 * Delivers one event to one webhook: the CloudEvent as JSON (structured mode), signed, POSTed once.
 * Every attempt is recorded. The secret is decrypted for this attempt only; when it does not decrypt
 * (see openSecret) nothing is sent and the attempt fails. A 2xx answer delivers it; anything else
 * throws, and the bus retries with backoff and dead-letters after its last attempt — except a target
 * refused as internal (see post-webhook.ts): nothing was sent, and retrying cannot cure it, so the
 * error is permanent and the bus dead-letters the event at once (replayable once the name is fixed).
 *
 * At least once: a receiver may see an event again (e.g. the answer was lost) and should de-duplicate
 * on webhook-id. Once a delivery is recorded as delivered, redeliveries of that event skip the POST.
 */
export async function deliverEvent(ctx: WebhooksContext, webhookId: string, event: CloudEvent, attempt: number): Promise<void> {
  const webhook = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', webhookId).executeTakeFirst();
  if (!webhook || webhook.deleted_at) {
    // Deleted while this event waited in its queue: deletion stops deliveries.
    ctx.log.debug({ webhookId, eventId: event.id }, 'webhook deleted; event not delivered');
    return;
  }
  const delivered = await ctx.db
    .selectFrom('deliveries')
    .select('id')
    .where('webhook_id', '=', webhookId)
    .where('event_id', '=', event.id)
    .where('outcome', '=', 'delivered')
    .executeTakeFirst();
  if (delivered) return;

  const at = ctx.clock.now();
  let secret: string;
  try {
    secret = openSecret(ctx.secrets, webhookId, webhook.secret_encrypted);
  } catch (err) {
    // Never sign with a secret that is not this webhook's: the attempt fails, visibly, and is retried.
    const error = err instanceof UnreadableSecretError ? err.message : `the signing secret could not be read: ${(err as Error).message}`;
    await recordDelivery(ctx, { webhookId, event, attempt, outcome: 'failed', statusCode: null, error, durationMs: null, at });
    ctx.log.error({ webhookId, eventId: event.id, attempt, error }, 'webhook not delivered: its signing secret cannot be read');
    throw new Error(`webhook ${webhookId} (${webhook.url}): ${error}`);
  }
  const body = JSON.stringify(event);
  const headers = {
    'content-type': CLOUDEVENTS_JSON,
    'user-agent': USER_AGENT,
    ...signWebhook(secret, event.id, Math.floor(at.getTime() / 1000), body),
  };
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  let refused = false;
  try {
    statusCode = await postWebhook(webhook.url, body, headers, {
      timeoutMs: ctx.timeoutMs,
      allowPrivateTargets: ctx.allowPrivateTargets,
      resolve: ctx.resolveHost,
      signal: ctx.stopSignal(),
    });
    if (statusCode < 200 || statusCode > 299) error = `answered HTTP ${statusCode}`;
  } catch (err) {
    error = (err as Error).message;
    refused = err instanceof TargetRefusedError;
  }
  const outcome: DeliveryOutcome = error === null ? 'delivered' : 'failed';
  await recordDelivery(ctx, { webhookId, event, attempt, outcome, statusCode, error, durationMs: Math.round(performance.now() - started), at });

  if (refused) {
    ctx.log.warn({ webhookId, eventId: event.id, attempt, error }, 'webhook delivery refused: its target is internal; not retried');
    throw new PermanentError(`webhook ${webhookId} (${webhook.url}): ${error}`);
  }
  if (error !== null) {
    ctx.log.warn({ webhookId, eventId: event.id, attempt, statusCode, error }, 'webhook delivery failed; the bus retries it');
    throw new Error(`webhook ${webhookId} (${webhook.url}): ${error}`);
  }
  ctx.log.debug({ webhookId, eventId: event.id, attempt, statusCode }, 'webhook delivered');
}

/** The bus gave up on this event for this webhook: say so in its deliveries. */
export async function recordDeadLetter(ctx: WebhooksContext, webhookId: string, event: CloudEvent, reason: string): Promise<void> {
  ctx.log.warn({ webhookId, eventId: event.id, reason }, 'webhook delivery dead-lettered');
  const exists = await ctx.db.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
  if (!exists) return;
  await recordDelivery(ctx, { webhookId, event, attempt: 0, outcome: 'dead-lettered', statusCode: null, error: reason, durationMs: null, at: ctx.clock.now() });
}

interface DeliveryRecord {
  webhookId: string;
  event: CloudEvent;
  attempt: number;
  outcome: DeliveryOutcome;
  statusCode: number | null;
  error: string | null;
  durationMs: number | null;
  at: Date;
}

async function recordDelivery(ctx: WebhooksContext, r: DeliveryRecord): Promise<void> {
  await ctx.db
    .insertInto('deliveries')
    .values({
      webhook_id: r.webhookId,
      // A dead-lettered message may be garbage that failed validation: record what can be read.
      event_id: readable(r.event, 'id'),
      event_type: readable(r.event, 'type'),
      attempt: r.attempt,
      outcome: r.outcome,
      status_code: r.statusCode,
      error: r.error?.slice(0, 2000) ?? null,
      duration_ms: r.durationMs,
      at: r.at,
    })
    .execute();
}

function readable(event: unknown, key: 'id' | 'type'): string {
  const value = typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 200) : 'unknown';
}
