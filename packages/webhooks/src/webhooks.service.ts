import { createKysely, systemClock, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { EventBus, EventCatalogue } from '@ems/eventbus';
import { sql } from 'kysely';
import { WEBHOOKS_SCHEMA, type WebhooksDB } from './db/webhooks.db.ts';
import { migrations } from './db/migrations.ts';
import { encryptPlaintextSecrets } from './db/encrypt-plaintext-secrets.ts';
import type { SecretsCipher } from './domain/secret-at-rest.ts';
import { systemResolver, type HostResolver } from './deliver-event/post-webhook.ts';
import { registerDeleteWebhookRoute } from './delete-webhook/delete-webhook.http.ts';
import { registerListDeliveriesRoute } from './deliveries/list-deliveries.http.ts';
import { deliverWhenEventPublished, webhookSubscriberName } from './deliver-event/deliver-when-event-published.ts';
import { registerReadWebhooksRoutes } from './read-webhooks/read-webhooks.http.ts';
import { registerRegisterWebhookRoute } from './register-webhook/register-webhook.http.ts';
import type { WebhooksContext } from './webhooks.context.ts';

export { WEBHOOKS_SCHEMA };

export interface WebhookServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
  bus: EventBus;
  /** Every event type a webhook may subscribe to: the core catalogue plus the extensions' events. */
  catalogue: EventCatalogue;
  /**
   * The installation's secrets (`Secrets` of @ems/identity): the signing secrets are stored encrypted with
   * them, bound to their webhook. Every process hosting webhooks needs the same key.
   */
  secrets: SecretsCipher;
  /** Allow URLs on loopback/private/link-local addresses (tests, local setups). Default false. */
  allowPrivateTargets?: boolean;
  /**
   * How deliveries resolve host names; default the system resolver (dns.lookup). Tests map names to
   * addresses here instead of editing /etc/hosts.
   */
  resolveHost?: HostResolver;
  /** Per-delivery time limit. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retry policy of every webhook subscription; default: the bus's (EMS_BUS_MAX_ATTEMPTS, EMS_BUS_RETRY_BACKOFF_MS). */
  retry?: { maxAttempts?: number; backoffMs?: number };
}

export type WebhookService = ServiceModule<never> & { start(): Promise<void>; stop(): Promise<void> };

/**
 * Outgoing webhooks: an administrator registers a URL and event types; every matching event on the
 * bus is POSTed to it, signed, with retries and dead letters. Works in both modes (services publish
 * their events whenever a bus is configured).
 */
export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const db = createKysely<WebhooksDB>(deps.pool, WEBHOOKS_SCHEMA);
  const log = deps.log.child({ service: 'webhooks' });
  let inFlight = new AbortController();
  // Webhooks this instance has subscribed on the bus (which refuses a second subscribe of one name).
  const subscribed = new Set<string>();
  const ctx: WebhooksContext = {
    db,
    clock: deps.clock ?? systemClock,
    log,
    catalogue: deps.catalogue,
    secrets: deps.secrets,
    allowPrivateTargets: deps.allowPrivateTargets ?? false,
    resolveHost: deps.resolveHost ?? systemResolver,
    timeoutMs: deps.timeoutMs ?? 10_000,
    stopSignal: () => inFlight.signal,
    subscriptions: {
      async add(webhook) {
        if (subscribed.has(webhook.id)) return;
        await deps.bus.subscribe(deliverWhenEventPublished(ctx, webhook, deps.retry));
        subscribed.add(webhook.id);
      },
      async remove(webhookId) {
        // Deleted for good: its pending retries go too (the deleted mark would skip them anyway).
        await deps.bus.unsubscribe(webhookSubscriberName(webhookId), { discardPending: true });
        subscribed.delete(webhookId);
      },
    },
  };

  return {
    name: 'webhooks',
    schema: WEBHOOKS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerRegisterWebhookRoute(app, ctx);
      registerReadWebhooksRoutes(app, db);
      registerDeleteWebhookRoute(app, ctx);
      registerListDeliveriesRoute(app, db);
    },
    readiness: {
      webhooks: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    /**
     * Encrypts the secrets an earlier release stored in plain text (see migration 2), then subscribes every
     * stored webhook (new ones subscribe when registered). Call after migrate, before or after bus.start().
     */
    async start() {
      const encrypted = await encryptPlaintextSecrets(db, deps.secrets);
      if (encrypted > 0) log.info({ webhooks: encrypted }, 'encrypted the webhook secrets an earlier release stored in plain text');
      const live = await db.selectFrom('webhooks').select(['id', 'event_types']).where('deleted_at', 'is', null).orderBy('created_at').execute();
      for (const webhook of live) await ctx.subscriptions.add(webhook);
      log.info({ webhooks: live.length }, 'webhook subscriptions started');
    },
    /**
     * Aborts the deliveries in flight (each counts as a failed attempt; the bus retries it later), so
     * shutdown does not wait for slow receivers. Deliveries starting afterwards run normally, whatever
     * order the root stops things in. Subscriptions stay: events published meanwhile wait in their queues.
     */
    async stop() {
      const current = inFlight;
      inFlight = new AbortController();
      current.abort();
    },
  };
}
