import { badRequest, checkWebhookTarget, conflict, HttpProblem, newWebhookSecret } from '@ems/platform';
import type { RegisteredWebhook, RegisterWebhookRequest } from '../api.ts';
import type { WebhookRow, WebhooksDb } from '../db/webhooks.db.ts';
import { sealSecret } from '../domain/secret-at-rest.ts';
import { toWebhook } from '../read-webhooks/webhook.view.ts';
import type { WebhooksContext } from '../webhooks.context.ts';

export interface RegisterWebhookResult {
  webhook: RegisteredWebhook;
  /** false when an earlier request (same URL, or same Idempotency-Key) already registered it: then no secret. */
  created: boolean;
}

interface Wanted {
  url: string;
  eventTypes: string[];
  description: string | null;
}

/**
 * Registers a URL to receive events of the given types, and subscribes it on the bus at once.
 *
 * Checked first, so a bad request stores nothing: the URL (http/https, no credentials, not internal
 * unless allowed) and every event type (must be in the catalogue). One live webhook per URL: the same
 * registration again answers the existing webhook. A different registration for a URL in use is a conflict.
 *
 * The secret is shown once: only the answer that creates the webhook carries it. It is stored encrypted
 * (bound to the webhook's id) and never returned again — a repeat with the creating Idempotency-Key
 * answers the webhook with `secret: null`, a repeat without a key answers it without `secret`. A client
 * that lost the secret deletes the webhook and registers it again. The secret is never logged.
 */
export async function registerWebhook(ctx: WebhooksContext, request: RegisterWebhookRequest, idempotencyKey?: string): Promise<RegisterWebhookResult> {
  const target = checkWebhookTarget(request.url, ctx.allowPrivateTargets);
  if (!target.ok) throw invalidUrl(target.reason);
  const unknown = request.eventTypes.filter((t) => !Object.hasOwn(ctx.catalogue, t));
  if (unknown.length > 0) {
    throw badRequest(`unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${Object.keys(ctx.catalogue).join(', ')}`);
  }
  const wanted: Wanted = { url: target.url, eventTypes: [...new Set(request.eventTypes)].sort(), description: request.description ?? null };

  const earlier = await findEarlier(ctx.db, wanted, idempotencyKey);
  if (earlier) return { webhook: earlier, created: false };

  const id = crypto.randomUUID();
  const secret = newWebhookSecret();
  const row = await ctx.db
    .insertInto('webhooks')
    .values({
      id,
      url: wanted.url,
      event_types: wanted.eventTypes,
      description: wanted.description,
      secret_encrypted: sealSecret(ctx.secrets, id, secret),
      created_at: ctx.clock.now(),
      idempotency_key: idempotencyKey ?? null,
    })
    // A concurrent registration of the same URL or key won: answer as a repeat of it.
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    const raced = await findEarlier(ctx.db, wanted, idempotencyKey);
    if (!raced) throw new Error(`webhook for ${wanted.url} conflicted, but no conflicting webhook is visible`);
    return { webhook: raced, created: false };
  }

  try {
    await ctx.subscriptions.add(row);
  } catch (err) {
    // Without its subscription the webhook would never fire: take the registration back.
    await ctx.db.deleteFrom('webhooks').where('id', '=', row.id).execute();
    ctx.log.error({ err, webhookId: row.id }, 'could not subscribe a new webhook; registration undone');
    throw new HttpProblem(503, 'The event bus did not accept the subscription; nothing was registered. Try again.');
  }
  // Neither the secret nor its ciphertext is logged.
  ctx.log.info({ webhookId: row.id, url: row.url, eventTypes: row.event_types }, 'webhook registered');
  return { webhook: { ...toWebhook(row), secret }, created: true };
}

async function findEarlier(db: WebhooksDb, wanted: Wanted, idempotencyKey: string | undefined): Promise<RegisteredWebhook | undefined> {
  if (idempotencyKey !== undefined) {
    const byKey = await db.selectFrom('webhooks').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    if (byKey) {
      if (byKey.deleted_at) throw conflict(`Idempotency-Key ${idempotencyKey} registered webhook ${byKey.id}, which was deleted since`, { webhookId: byKey.id });
      if (!sameRegistration(byKey, wanted)) throw conflict(`Idempotency-Key ${idempotencyKey} was already used for another registration`, { webhookId: byKey.id });
      // Shown once: the creating answer had the secret; its repeat says there is none to show.
      return { ...toWebhook(byKey), secret: null };
    }
  }
  const byUrl = await db.selectFrom('webhooks').selectAll().where('url', '=', wanted.url).where('deleted_at', 'is', null).executeTakeFirst();
  if (byUrl) {
    if (!sameRegistration(byUrl, wanted)) {
      throw conflict(`${wanted.url} is already registered as webhook ${byUrl.id} with other event types or description; delete it first`, { webhookId: byUrl.id });
    }
    return toWebhook(byUrl);
  }
  return undefined;
}

/** 400, naming the field as request validation does. */
function invalidUrl(reason: string): HttpProblem {
  return new HttpProblem(400, reason, { type: 'https://ems.dev/problems/validation', title: 'Invalid request', extra: { errors: [{ path: 'body.url', message: reason }] } });
}

function sameRegistration(row: WebhookRow, wanted: Wanted): boolean {
  return row.url === wanted.url && row.description === wanted.description && row.event_types.length === wanted.eventTypes.length && row.event_types.every((t, i) => t === wanted.eventTypes[i]);
}
