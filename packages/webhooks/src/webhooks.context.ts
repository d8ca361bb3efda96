import type { Clock, Logger } from '@ems/platform';
import type { EventCatalogue } from '@ems/eventbus';
import type { WebhookRow, WebhooksDb } from './db/webhooks.db.ts';
import type { SecretsCipher } from './domain/secret-at-rest.ts';
import type { HostResolver } from './deliver-event/post-webhook.ts';

/** What the use cases of the webhook service need, built once by the factory. */
export interface WebhooksContext {
  db: WebhooksDb;
  clock: Clock;
  log: Logger;
  /** The event types a webhook may ask for: the bus's catalogue (core events and extensions'). */
  catalogue: EventCatalogue;
  allowPrivateTargets: boolean;
  /** Resolves a webhook's host name for its delivery (once per attempt; every address is checked). */
  resolveHost: HostResolver;
  /** Encrypts the signing secrets at rest (the installation's secrets key). */
  secrets: SecretsCipher;
  timeoutMs: number;
  /** The signal of deliveries starting now; stop() aborts the ones in flight (the bus retries them later). */
  stopSignal(): AbortSignal;
  /** Each webhook is one bus subscription; these keep the bus in step with the table. */
  subscriptions: {
    add(webhook: Pick<WebhookRow, 'id' | 'event_types'>): Promise<void>;
    remove(webhookId: string): Promise<void>;
  };
}
