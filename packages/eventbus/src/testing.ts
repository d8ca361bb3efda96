import { randomUUID } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import { createKysely, createLogger, PermanentError, type Pool } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { EventSchemas, EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, validateEvent } from './envelope.ts';
import { createPostgresEventBus, type PostgresEventBusOptions } from './postgres/postgres-event-bus.ts';
import type { CloudEvent, DeadLetterStore, EventBus, EventBusTestHooks, EventCatalogue, Subscription, TransactionLike } from './port.ts';

export {
  natsTestUrl,
  checkNats,
  checkNatsServerBinary,
  natsServerBinary,
  servicesRequired,
  startNatsServer,
  createTestNatsBus,
  removeNatsStreams,
  testNatsPrefix,
  TEST_NATS_PREFIX,
  type ServiceCheck,
  type NatsTestServer,
  type TestNatsBus,
} from './nats/nats-testing.ts';

/*
 * Test helpers for services on the bus (imported by tests only, never by production code):
 * - createRecordingBus: a stand-in for the bus when a test delivers events to a handler itself;
 * - createTestPostgresBus, publishInTransaction, createEventProbe: the real PostgreSQL bus as tests run it;
 * - resignationSubmittedEvent: the event EMS publishes when an employee resigns;
 * - NATS (nats/nats-testing.ts): checkNats/checkNatsServerBinary (skip or, with EMS_REQUIRE_SERVICES=1,
 *   fail), startNatsServer (a server of the test's own, to kill), createTestNatsBus, removeNatsStreams.
 */

/**
 * A test double of the EventBus port — for the bus only; the database stays real. publish() validates
 * each event against the catalogue (as every adapter must) and records it in a table THROUGH THE
 * CALLER'S TRANSACTION, so an event is "published" iff that transaction commits, exactly the port's
 * promise. Nothing is delivered: tests call a subscription's handle() themselves.
 */
export interface RecordingBus extends EventBus {
  /** Committed events, in publish order, optionally of one type. */
  published(type?: string): Promise<CloudEvent[]>;
  /**
   * Makes publish() record its events and then throw, so the caller's transaction must roll back
   * (taking the record with it). With `type`, only a publish carrying an event of that type fails.
   * `times` publishes fail: 1 by default, `Infinity` until stopFailing().
   */
  failPublish(options?: { type?: string; times?: number }): void;
  /** Publishing succeeds again. */
  stopFailing(): void;
  /** What was subscribed, by subscriber name. */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
}

/** A recording bus on `pool`'s database (table `public.recorded_events`), validating against `catalogue`. */
export async function createRecordingBus(pool: Pool, catalogue: EventCatalogue = EventSchemas): Promise<RecordingBus> {
  await pool.query('CREATE TABLE IF NOT EXISTS public.recorded_events (seq bigserial PRIMARY KEY, type text NOT NULL, event jsonb NOT NULL)');
  const subscriptions = new Map<string, Subscription>();
  let failing: { type: string | undefined; left: number } | undefined;
  const deadLetters: DeadLetterStore = {
    list: async () => ({ items: [], nextOffset: null }),
    get: async () => undefined,
    replay: async () => undefined,
  };
  return {
    name: 'postgres',
    async publish(tx: TransactionLike, events: readonly CloudEvent[]) {
      for (const event of events) {
        const checked = validateEvent(event, catalogue);
        if (!checked.ok) throw new PermanentError(`refusing to publish: ${checked.reason}`);
      }
      for (const event of events) {
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO public.recorded_events (type, event) VALUES ($1, $2::jsonb)', [event.type, JSON.stringify(event)]));
      }
      const failure = failing;
      if (failure && (failure.type === undefined || events.some((e) => e.type === failure.type))) {
        if (--failure.left <= 0) failing = undefined;
        throw new Error(`publish failed (forced failure): bus told to fail after recording ${events.map((e) => e.type).join(', ')}`);
      }
    },
    async subscribe(s) {
      subscriptions.set(s.name, s);
    },
    async unsubscribe(name) {
      subscriptions.delete(name);
    },
    async start() {},
    async stop() {},
    deadLetters,
    subscriptions,
    async published(type) {
      const { rows } = await pool.query<{ event: CloudEvent }>(
        type === undefined ? 'SELECT event FROM public.recorded_events ORDER BY seq' : 'SELECT event FROM public.recorded_events WHERE type = $1 ORDER BY seq',
        type === undefined ? [] : [type],
      );
      return rows.map((r) => r.event);
    },
    failPublish(options = {}) {
      failing = { type: options.type, left: options.times ?? 1 };
    },
    stopFailing() {
      failing = undefined;
    },
  };
}

/**
 * The real PostgreSQL bus as integration tests run it: a copy of the core catalogue, idle workers
 * polling every 0.5 s, a log quiet unless EMS_TEST_LOG_LEVEL says otherwise. Any option can be overridden.
 */
export function createTestPostgresBus(pool: Pool, options: Partial<Omit<PostgresEventBusOptions, 'pool'>> = {}): EventBus & EventBusTestHooks {
  return createPostgresEventBus({
    pool,
    log: createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' }),
    catalogue: { ...EventSchemas },
    pollingIntervalSeconds: 0.5,
    ...options,
  });
}

/** Publishes as a service does: in a database transaction (of its own, on `pool`). */
export async function publishInTransaction(pool: Pool, bus: EventBus, events: readonly CloudEvent[]): Promise<void> {
  await createKysely<Record<string, never>>(pool, 'public')
    .transaction()
    .execute((trx) => bus.publish(trx, events));
}

/** A subscriber that only records what reaches it: stands in for whoever listens (e.g. EMS's case tracking). */
export interface EventProbe {
  /** Subscribe this to the bus. */
  readonly subscription: Subscription;
  /** Everything received, in order of arrival, duplicates included. */
  readonly received: readonly CloudEvent[];
  /** What was received about one subject (the resignation id). */
  about(subject: string): CloudEvent[];
  /** Waits until something about `subject` was received and answers all of it; on time-out fails naming `what`. */
  waitFor(subject: string, what: string, timeoutMs?: number): Promise<CloudEvent[]>;
}

export function createEventProbe(name: string, types: readonly string[]): EventProbe {
  const received: CloudEvent[] = [];
  const about = (subject: string) => received.filter((e) => e.subject === subject);
  return {
    subscription: {
      name,
      types,
      async handle(event) {
        received.push(event);
      },
    },
    received,
    about,
    waitFor: (subject, what, timeoutMs) => waitFor(() => (about(subject).length > 0 ? about(subject) : undefined), what, timeoutMs),
  };
}

type ResignationSubmitted = EventData<typeof EventTypes.resignationSubmitted>;

/** The facts of a resignation a test cares about; the rest take plain defaults. */
export interface ResignationFacts {
  /** Default: a fresh UUID. */
  resignationId?: string;
  /** Default: the resignation id. */
  correlationId?: string;
  /** Only id, name, email and timezone are taken. Default: Alice Leaver (E1001, Europe/Berlin). */
  employee?: ResignationSubmitted['employee'];
  /** Default: none. */
  manager?: ResignationSubmitted['manager'];
  /** Default: HR1. */
  hrPartnerId?: string;
  /** Default: 2026-03-31. */
  lastWorkingDay?: string;
  /** Default: none. */
  reason?: string | null;
  /** Default: now. */
  submittedAt?: Date | string;
}

/** The event EMS publishes when an employee resigns (a new trace). */
export function resignationSubmittedEvent(facts: ResignationFacts = {}): CloudEvent<ResignationSubmitted> {
  const resignationId = facts.resignationId ?? randomUUID();
  const employee = facts.employee ?? { id: 'E1001', name: 'Alice Leaver', email: 'alice@acme.example', timezone: 'Europe/Berlin' };
  const submittedAt = facts.submittedAt ?? new Date();
  return createEvent({
    type: EventTypes.resignationSubmitted,
    source: EventSources.ems,
    subject: resignationId,
    correlationId: facts.correlationId ?? resignationId,
    data: {
      resignationId,
      employee: { id: employee.id, name: employee.name, email: employee.email, timezone: employee.timezone },
      manager: facts.manager ?? null,
      hrPartnerId: facts.hrPartnerId ?? 'HR1',
      lastWorkingDay: facts.lastWorkingDay ?? '2026-03-31',
      reason: facts.reason ?? null,
      submittedAt: typeof submittedAt === 'string' ? submittedAt : submittedAt.toISOString(),
    },
  });
}
