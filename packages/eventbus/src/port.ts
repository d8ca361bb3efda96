import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { CloudEvent } from '@ems/contracts/events';

export type { CloudEvent };

/**
 * The caller's open database transaction (a Kysely transaction or instance, any schema): all an
 * adapter needs is to run SQL in it.
 */
export type TransactionLike = Pick<Kysely<unknown>, 'executeQuery'>;

/** Event type name → payload schema. The core catalogue is `events.EventSchemas`; extensions add theirs. */
export type EventCatalogue = Readonly<Record<string, z.ZodType>>;

export interface DeliveryContext {
  /** 1 on the first delivery of this event to this subscriber. */
  attempt: number;
  /** True on the last attempt before the event goes to the dead-letter queue. */
  lastAttempt: boolean;
}

/**
 * One subscriber: a named consumer with its own queue, its own retries with backoff and its own
 * dead letters. The name is stable (it keys the queue and the consumer's processed-event records),
 * e.g. 'access.suspend-access-when-resignation-submitted'.
 */
export interface Subscription {
  name: string;
  /**
   * Names this subscriber had before (a rename). On activation the adapter moves whatever still waits
   * under them to `name` — undelivered events, pending retries, dead letters not yet recorded, recorded
   * dead letters (listed and replayable under the new name from then on) — then removes the old queue
   * (PostgreSQL) or consumers and subjects (NATS). Idempotent: safe to run on every start, and from
   * several processes at once. Stop processes of the previous version first: one still running keeps
   * working, or re-creates, what the move just emptied. The service renames its own processed-event
   * records (firstDelivery's subscriber) in a migration of its own.
   */
  formerNames?: readonly string[];
  /** Event types this subscriber receives (exact names from the catalogue). */
  types: readonly string[];
  /**
   * Handles one event, already validated against the catalogue. Throwing a transient error means "try
   * again later"; after `maxAttempts` the event is dead-lettered with the error as the reason. Throwing
   * a permanent one (platform's `PermanentError`, invalid data, a violated constraint, a 4xx from a
   * service: see platform's errors.ts) dead-letters it at once. Must be idempotent:
   * record the event id with `firstDelivery()` in the same transaction as the effect.
   */
  handle(event: CloudEvent, ctx: DeliveryContext): Promise<void>;
  /**
   * Called when a valid event of this subscriber is dead-lettered (its handler failed `maxAttempts`
   * times, or once with a permanent error), e.g. to publish a failure event in a transaction of its own — and called again, with
   * backoff, until it returns without throwing, so a failure report is not lost (make it idempotent).
   * Not called for poison messages (bad envelope, unknown type, invalid payload): there is no
   * trustworthy event to react to.
   */
  onDeadLetter?(event: CloudEvent, reason: string): Promise<void>;
  /** Overrides the bus's default retry policy (attempts include the first delivery). */
  retry?: { maxAttempts?: number; backoffMs?: number };
  /** Handlers of this subscriber running at once in one process; the bus's default otherwise. */
  concurrency?: number;
  /**
   * Deliveries one worker fetches, and hands to `handle`, at once (PostgreSQL adapter; `concurrency` is
   * split into workers of this many). Default 2. Larger for a subscriber that handles the deliveries
   * arriving together in one transaction (eventbus's handledTogether): a worker's batch is then one
   * transaction, one fetch and one completion. A batch is completed when all its deliveries are handled.
   */
  batch?: number;
  /**
   * Ms a delivery may wait so that those arriving meanwhile are fetched with it, in one batch (PostgreSQL adapter;
   * at most 1,000; default 0, fetched at once). For a subscriber that handles a batch in one transaction and is on
   * no one's critical path: in a burst its deliveries came a few at a time, each few a fetch, a transaction and a
   * completion, however large its `batch`.
   */
  linger?: number;
  /**
   * 'critical': this subscriber's deliveries never wait behind other subscribers' work in this process —
   * the adapter fetches and settles them on resources of their own (PostgreSQL: a pg-boss instance on a
   * connection of its own; NATS: a connection of its own for its pulls and acks), so a backlog of
   * emails cannot delay, say, suspending access. Keep it for short handlers that must not queue.
   * Default 'standard': the bus's shared pool or connection.
   */
  lane?: Lane;
}

export type Lane = 'critical' | 'standard';

export interface DeadLetter {
  id: string;
  subscriber: string;
  /** The message as received: a CloudEvent, or whatever garbage was on the queue. */
  event: unknown;
  eventId: string | null;
  eventType: string | null;
  reason: string;
  attempts: number;
  deadAt: string;
  /** Set when the dead letter was replayed; it is then no longer listed as open. */
  replayedAt: string | null;
}

export interface DeadLetterStore {
  list(query?: { subscriber?: string; includeReplayed?: boolean; limit?: number; offset?: number }): Promise<{ items: DeadLetter[]; nextOffset: number | null }>;
  get(id: string): Promise<DeadLetter | undefined>;
  /** Delivers the event to its subscriber again, with a fresh set of attempts. Idempotent. */
  replay(id: string): Promise<DeadLetter | undefined>;
}

/**
 * The event-bus port. Adapters: PostgreSQL (default, works on the embedded database) and, later,
 * NATS JetStream. Guarantees every adapter must keep (contract tests: test/contract.ts):
 * - publish() is part of the caller's transaction: the events are delivered iff it commits;
 * - at-least-once delivery to every subscription of the event's type, each with its own retries;
 * - an event failing validation never reaches a handler: it is dead-lettered at once with the reason;
 * - a handler's permanent error dead-letters the event at once, with the reason;
 * - after maxAttempts failures the event is dead-lettered, listed, and can be replayed.
 */
export interface EventBus {
  readonly name: 'postgres' | 'nats';
  /**
   * Publishes events inside the caller's database transaction (a Kysely transaction or instance).
   * Each event is validated against the catalogue first; an invalid one throws and nothing is published.
   */
  publish(tx: TransactionLike, events: readonly CloudEvent[]): Promise<void>;
  /** Registers a subscriber; allowed before and after start(). */
  subscribe(subscription: Subscription): Promise<void>;
  /**
   * Stops delivering to the subscriber and removes its routing. Its queue and dead letters stay, so a
   * subscriber coming back (a redeploy) picks up its backlog — unless `discardPending`: the subscriber is
   * gone for good (a deleted webhook), and what still waits for it, retries included, is dropped too.
   */
  unsubscribe(name: string, options?: { discardPending?: boolean }): Promise<void>;
  start(): Promise<void>;
  /** Stops taking new deliveries and waits for handlers in flight. */
  stop(): Promise<void>;
  readonly deadLetters: DeadLetterStore;
}

/** What a service with event subscribers hands to its composition root. */
export interface EventedService {
  /** Subscribers this service runs in choreography mode (empty/absent in orchestration mode). */
  subscriptions?: readonly Subscription[];
}

/** Test-only access an adapter gives to its contract tests: put a message on the wire unvalidated. */
export interface EventBusTestHooks {
  /** Delivers `raw` (anything, even garbage) to the queue of `subscriber` as if it had been published. */
  injectRaw(subscriber: string, raw: unknown): Promise<void>;
  /** The subscribers this process has subscribed (names), so a test can reach every one of them. */
  subscribers(): string[];
  /**
   * A barrier, so a test waits for a marker instead of sleeping: resolves once every message that was on
   * its way to `subscriber` when this was called — published by a transaction committed before it,
   * injected, or replayed — has been settled: handled, or dead-lettered, recorded and its onDeadLetter
   * done. Retries still to come count as not settled. Also for a subscriber this process does not work
   * (unsubscribed, or worked elsewhere): it waits for whoever works its queue. Rejects after `timeoutMs`
   * (default 30 000) saying what is left.
   */
  settled(subscriber: string, options?: { timeoutMs?: number }): Promise<void>;
}
