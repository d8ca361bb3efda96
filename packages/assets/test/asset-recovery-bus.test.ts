import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { EventSchemas, type CloudEvent } from '@ems/contracts/events';
import type { EventBus, EventCatalogue, Extension } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import createAssetsExtension, { AssetEventTypes, RecoveryTaskOpened } from '../src/index.ts';

/**
 * The extension on the real PostgreSQL event bus, loaded the way EMS loads it: the factory with the
 * process environment, its subscriptions subscribed and its events added to the bus's catalogue.
 */

const log = createLogger({ level: 'silent' });
let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus;
let extension: Extension;
const catalogue: Record<string, EventCatalogue[string]> = { ...EventSchemas };
const handled: string[] = [];
const opened = createEventProbe('test.recovery-task-opened-probe', [AssetEventTypes.recoveryTaskOpened]);

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'assetsbus');
  pool = createPool(testDb.url, { max: 16 });
  bus = createTestPostgresBus(pool, { log, catalogue });
  extension = await createAssetsExtension({ pool, log, clock: systemClock, bus, env: {} });
  Object.assign(catalogue, extension.events);
  await migrate(pool, extension.schema, extension.migrations);
  for (const sub of extension.subscriptions ?? []) {
    // Same name, queue and handler; the wrapper only counts finished deliveries.
    await bus.subscribe({ ...sub, handle: async (event, ctx) => {
      await sub.handle(event, ctx);
      handled.push(event.id);
    } });
  }
  await bus.subscribe(opened.subscription);
  await bus.start();
});

afterAll(async () => {
  await bus?.stop();
  await pool?.end();
  await testDb?.drop();
});

const resignationSubmitted = (): CloudEvent =>
  resignationSubmittedEvent({ employee: { id: 'e-7', name: 'Ada Leaver', email: 'ada@acme.example', timezone: 'Europe/Berlin' }, hrPartnerId: 'hr-1', lastWorkingDay: '2026-06-30' });
const publish = (...events: CloudEvent[]) => publishInTransaction(pool, bus, events);
/** Barrier: every job on the bus has run to its end: all the duplicate published has reached the probe. */
const busIdle = () => waitFor(async () => ((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bus.job WHERE state < 'completed'`)).rows[0]!.n === 0 ? true : undefined), 'every job on the bus to have run');

describe('asset recovery on the PostgreSQL event bus', () => {
  it('when resignation-submitted is published twice with the same id, then both deliveries are handled, one task is opened and recovery-task-opened is published once', async () => {
    const event = resignationSubmitted();
    const { resignationId } = event.data as { resignationId: string };
    await publish(event);
    await publish(event);

    await waitFor(() => (handled.filter((id) => id === event.id).length === 2 ? true : undefined), 'both deliveries handled');
    const tasks = await pool.query<{ items: string[]; due_date: string }>('SELECT items, due_date FROM assets.recovery_tasks WHERE resignation_id = $1', [resignationId]);
    expect(tasks.rows).toEqual([{ items: ['laptop', 'badge'], due_date: '2026-06-30' }]);

    const [announced] = await opened.waitFor(resignationId, 'recovery-task-opened at the probe');
    expect(RecoveryTaskOpened.parse(announced!.data)).toMatchObject({ resignationId, items: ['laptop', 'badge'], dueDate: '2026-06-30' });
    expect(announced!.correlationid).toBe(event.correlationid);
    await busIdle();
    expect(opened.about(resignationId)).toHaveLength(1);
  });
});
