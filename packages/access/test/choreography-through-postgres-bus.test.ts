import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, knownCases, waitFor, type TestDatabase } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { CriticalAccessSuspensionFailed, EventSources, EventTypes } from '@ems/contracts/events';
import type { CloudEvent, EventBus, EventBusTestHooks, Subscription } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import { createAccessService, SUSPEND_ACCESS_SUBSCRIBER } from '../src/index.ts';

/** The subscriber run by the real PostgreSQL bus: published once, delivered (at least) once, effect once. */

const org = demoOrg();
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
const withCriticalAccess = org.employees.filter((e) => org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)));
let next = 0;
const freshEmployee = () => withCriticalAccess[next++]!;

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
// Stands in for EMS: listens to what Access says it did.
const outcomes = createEventProbe('test.access-outcomes', [EventTypes.criticalAccessSuspended, EventTypes.criticalAccessSuspensionFailed]);
const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
// Stands in for EMS's answer about a case (asked only by the HTTP routes; the choreography does not ask).
const cases = knownCases().lookup;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessbus');
  pool = createPool(testDb.url, { max: 20 });
  bus = createTestPostgresBus(pool, { log, defaultRetry: { maxAttempts: 2, backoffMs: 500 } });
  const service = createAccessService({ pool, log, cases, bus, reactToEvents: true });
  await migrate(pool, service.schema, service.migrations);
  await service.seed!(org);
  for (const s of service.subscriptions ?? []) await bus.subscribe(s);
  await bus.subscribe(outcomes.subscription);
  await bus.start();
});

afterAll(async () => {
  await bus?.stop();
  await pool?.end();
  await testDb?.drop();
});

const publish = (event: CloudEvent) => publishInTransaction(pool, bus, [event]);
/** Barrier: every job on the bus has run to its end (deliveries, retries, dead letters): all a duplicate would do and publish is done and has reached the probe. */
const busIdle = () => waitFor(async () => ((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bus.job WHERE state < 'completed'`)).rows[0]!.n === 0 ? true : undefined), 'every job on the bus to have run');
async function holds(resignationId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [resignationId]);
  return rows[0]!.n;
}

describe('access through the PostgreSQL event bus', () => {
  it('when resignationSubmitted is published twice (a duplicate on the wire) after a poison message, then one hold is created and one criticalAccessSuspended reaches its listeners', async () => {
    await bus.injectRaw(SUSPEND_ACCESS_SUBSCRIBER, { not: 'an event' });
    const event = resignationSubmittedEvent({ employee: freshEmployee() });
    await publish(event);
    await publish(event);

    const [suspended] = await outcomes.waitFor(event.data.resignationId, 'criticalAccessSuspended');
    expect(suspended).toMatchObject({ type: EventTypes.criticalAccessSuspended, source: EventSources.access, correlationid: event.correlationid });
    await busIdle(); // the duplicate has been delivered and handled
    expect(outcomes.about(event.data.resignationId)).toHaveLength(1);
    expect(await holds(event.data.resignationId)).toBe(1);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.processed_events WHERE event_id = $1', [event.id]);
    expect(rows[0]!.n).toBe(1);

    const letters = await bus.deadLetters.list({ subscriber: SUSPEND_ACCESS_SUBSCRIBER });
    expect(letters.items.some((l) => /invalid CloudEvents envelope/.test(l.reason))).toBe(true);
  });

  it('when the employee is unknown, then criticalAccessSuspensionFailed reaches the listeners, without retries or dead letters', async () => {
    const event = resignationSubmittedEvent({ employee: { id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'UTC' } });
    await publish(event);
    const [failed] = await outcomes.waitFor(event.data.resignationId, 'the failure event');
    expect(failed).toMatchObject({ type: EventTypes.criticalAccessSuspensionFailed, data: { resignationId: event.data.resignationId, causationId: event.id } });
    expect((await bus.deadLetters.list({ subscriber: SUSPEND_ACCESS_SUBSCRIBER })).items.filter((l) => l.eventId === event.id)).toHaveLength(0);
  });

  it('when the handler keeps failing, then the event is dead-lettered and its onDeadLetter publishes criticalAccessSuspensionFailed with the reason', async () => {
    // The real subscriber's onDeadLetter behind a handler that always throws (a technical failure);
    // the real subscriber handles the same event meanwhile, so both outcomes are published.
    const real = createAccessService({ pool, log, cases, bus, reactToEvents: true }).subscriptions![0]!;
    const failing: Subscription = {
      ...real,
      name: 'access.test-always-failing',
      handle: async () => {
        throw new Error('database unavailable');
      },
      retry: { maxAttempts: 2, backoffMs: 500 },
    };
    await bus.subscribe(failing);
    try {
      const event = resignationSubmittedEvent({ employee: freshEmployee() });
      await publish(event);
      const failedOf = () => outcomes.about(event.data.resignationId).filter((e) => e.type === EventTypes.criticalAccessSuspensionFailed);
      const [failed] = await waitFor(() => (failedOf().length > 0 ? failedOf() : undefined), 'the failure event from the dead letter', 30_000);
      const data = CriticalAccessSuspensionFailed.parse(failed!.data);
      expect(data).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
      expect(data.reason).toContain('database unavailable');
      const letters = await bus.deadLetters.list({ subscriber: failing.name });
      expect(letters.items.map((l) => [l.eventId, l.attempts])).toEqual([[event.id, 2]]);
    } finally {
      await bus.unsubscribe(failing.name);
    }
  });
});
