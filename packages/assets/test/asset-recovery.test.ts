import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, createHttpServer, createLogger, createPool, migrate, type App, type Clock, type Pool } from '@ems/platform';
import { createTestDatabase, requestJson, type TestDatabase } from '@ems/platform/testing';
import { EventSchemas, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { POLICY } from '@ems/contracts/policy';
import { demoOrg } from '@ems/demo-org';
import { startTestIdentity, type TestIdentity } from '@ems/identity/testing';
import type { Extension, Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import createAssetsExtension, { AssetEvents, AssetEventTypes, AssetsPaths, OPEN_RECOVERY_TASK_SUBSCRIBER, RecoveryTask, RecoveryTaskList, RecoveryTaskOpened, createExtension } from '../src/index.ts';

let now = new Date('2026-03-02T09:00:00.000Z');
const clock: Clock = { now: () => new Date(now) };

let testDb: TestDatabase;
let pool: Pool;
let bus: RecordingBus;
let extension: Extension;
let handler: Subscription;
let app: App;
let base: string;
let identity: TestIdentity;

const log = createLogger({ level: 'silent' });
const delivery = { attempt: 1, lastAttempt: false };
const org = demoOrg();
/** IT's access administrator in the demo organisation: collects the equipment (lists, reads and completes the tasks). */
const ACCESS_ADMIN = org.roleAssignments.find((a) => a.role === 'access_admin')!.personId;

/** A call to the extension's API as the access administrator (a real token from the test identity provider). */
async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return requestJson<T>(base, method, path, body, { ...(await identity.as(ACCESS_ADMIN)), ...headers });
}

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'assets');
  pool = createPool(testDb.url, { max: 12 });
  bus = await createRecordingBus(pool, { ...EventSchemas, ...AssetEvents });
  extension = await createAssetsExtension({ pool, log, clock, bus, env: { EMS_ASSETS_ITEMS: 'laptop,badge,phone' } });
  await migrate(pool, extension.schema, extension.migrations);
  const [subscription] = extension.subscriptions ?? [];
  if (!subscription) throw new Error('the extension subscribes to nothing');
  handler = subscription;
  // Behind the trust boundary, as EMS hosts an extension: the core policy table plus the extension's own rows.
  identity = await startTestIdentity(pool, org, log);
  const security = identity.securityFor(['extensions'], { ...POLICY, ...extension.policy });
  app = await createHttpServer({ title: 'assets test', version: '0', logger: log, plugins: [extension.routes], readiness: extension.readiness ?? {}, docs: false, security });
  app.addHook('onClose', () => identity.stop());
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await testDb?.drop();
});

function resignationSubmitted(overrides: { resignationId?: string; employeeId?: string; lastWorkingDay?: string } = {}): CloudEvent {
  const resignationId = overrides.resignationId ?? randomUUID();
  const employeeId = overrides.employeeId ?? `e-${resignationId.slice(0, 8)}`;
  return resignationSubmittedEvent({
    resignationId,
    correlationId: `corr-${resignationId}`,
    employee: { id: employeeId, name: 'Ada Leaver', email: 'ada@acme.example', timezone: 'Europe/Berlin' },
    manager: { id: 'm-1', name: 'Grace Manager', email: 'grace@acme.example' },
    hrPartnerId: 'hr-1',
    lastWorkingDay: overrides.lastWorkingDay ?? '2026-03-27',
    submittedAt: now,
  });
}

async function tasksOf(resignationId: string) {
  const r = await api('GET', `${AssetsPaths.tasks}?resignationId=${resignationId}`);
  expect(r.status).toBe(200);
  return RecoveryTaskList.parse(r.body).items;
}

async function openedEventsFor(resignationId: string) {
  return (await bus.published()).filter((e) => e.type === AssetEventTypes.recoveryTaskOpened && e.subject === resignationId);
}

describe('asset recovery extension', () => {
  it('when loaded, then it is an extension factory offering one subscriber, its own schema and its own event catalogue', () => {
    expect(createAssetsExtension).toBe(createExtension);
    expect(extension.name).toBe('assets');
    expect(extension.schema).toBe('assets');
    expect(handler.name).toBe(OPEN_RECOVERY_TASK_SUBSCRIBER);
    expect(handler.name).toBe('assets.open-recovery-task-when-resignation-submitted');
    expect(handler.types).toEqual([EventTypes.resignationSubmitted]);
    expect(Object.keys(extension.events ?? {})).toEqual(['com.ems.assets.recovery-task-opened.v1']);
  });

  it('when EMS_ASSETS_ITEMS is invalid, then the factory refuses to start naming the key', async () => {
    await expect(Promise.resolve().then(() => createExtension({ pool, log, clock, bus, env: { EMS_ASSETS_ITEMS: 'laptop,,badge' } }))).rejects.toThrow(ConfigError);
  });

  it('when an employee resigns, then one task collects the configured items on the last working day, and recovery-task-opened says so', async () => {
    const event = resignationSubmitted({ lastWorkingDay: '2026-03-31' });
    await handler.handle(event, delivery);

    const data = event.data as { resignationId: string; employee: { id: string } };
    const [task, ...more] = await tasksOf(data.resignationId);
    expect(more).toEqual([]);
    expect(task).toMatchObject({ resignationId: data.resignationId, employeeId: data.employee.id, items: ['laptop', 'badge', 'phone'], dueDate: '2026-03-31', status: 'open', completedAt: null, createdAt: now.toISOString() });

    const [opened, ...others] = await openedEventsFor(data.resignationId);
    expect(others).toEqual([]);
    expect(opened).toMatchObject({ source: '/ems/assets', subject: data.resignationId, correlationid: event.correlationid });
    expect(RecoveryTaskOpened.parse(opened!.data)).toEqual({ resignationId: data.resignationId, taskId: task!.id, employeeId: data.employee.id, items: ['laptop', 'badge', 'phone'], dueDate: '2026-03-31', openedAt: now.toISOString() });
    // Same trace, new span.
    expect(opened!.traceparent.split('-')[1]).toBe(event.traceparent.split('-')[1]);
    expect(opened!.traceparent).not.toBe(event.traceparent);
  });

  it('when the same event is delivered twice, then there is one task and one recovery-task-opened event', async () => {
    const event = resignationSubmitted();
    const { resignationId } = event.data as { resignationId: string };
    await handler.handle(event, delivery);
    await handler.handle(event, { attempt: 2, lastAttempt: false });

    expect(await tasksOf(resignationId)).toHaveLength(1);
    expect(await openedEventsFor(resignationId)).toHaveLength(1);
    // The redelivery was recognised as such (not merely absorbed by the unique resignation id).
    const processed = await pool.query('SELECT subscriber FROM assets.processed_events WHERE event_id = $1', [event.id]);
    expect(processed.rows).toEqual([{ subscriber: OPEN_RECOVERY_TASK_SUBSCRIBER }]);
  });

  it('when the same event is delivered twice at the same time, then there is one task and one recovery-task-opened event', async () => {
    const event = resignationSubmitted();
    const { resignationId } = event.data as { resignationId: string };
    const results = await Promise.allSettled([handler.handle(event, delivery), handler.handle(event, delivery), handler.handle(event, delivery)]);
    // A loser may wait on the winner's row lock and then find the event processed; none may fail.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);

    expect(await tasksOf(resignationId)).toHaveLength(1);
    expect(await openedEventsFor(resignationId)).toHaveLength(1);
  });

  it('when another event about the same resignation arrives, then the task stays as it is and nothing new is announced', async () => {
    const first = resignationSubmitted({ lastWorkingDay: '2026-04-30' });
    const { resignationId } = first.data as { resignationId: string };
    await handler.handle(first, delivery);
    const [before] = await tasksOf(resignationId);

    await handler.handle(resignationSubmitted({ resignationId, lastWorkingDay: '2026-05-29' }), delivery);

    expect(await tasksOf(resignationId)).toEqual([before]);
    expect(await openedEventsFor(resignationId)).toHaveLength(1);
  });

  it('when publishing fails, then the task is rolled back with it and the redelivery opens it once', async () => {
    const event = resignationSubmitted();
    const { resignationId } = event.data as { resignationId: string };
    bus.failPublish();
    await expect(handler.handle(event, delivery)).rejects.toThrow(/publish failed/);
    // Nothing half-done: no task, no event, and the event is not marked as processed.
    expect(await tasksOf(resignationId)).toEqual([]);
    expect(await openedEventsFor(resignationId)).toEqual([]);
    const processed = await pool.query('SELECT 1 FROM assets.processed_events WHERE event_id = $1', [event.id]);
    expect(processed.rowCount).toBe(0);

    await handler.handle(event, { attempt: 2, lastAttempt: false });
    expect(await tasksOf(resignationId)).toHaveLength(1);
    expect(await openedEventsFor(resignationId)).toHaveLength(1);
  });
});

describe('asset recovery API', () => {
  async function openTask(): Promise<RecoveryTask> {
    const event = resignationSubmitted();
    await handler.handle(event, delivery);
    const [task] = await tasksOf((event.data as { resignationId: string }).resignationId);
    return task!;
  }

  it('when a task is completed, then it is done; completing it again changes nothing', async () => {
    const task = await openTask();
    now = new Date(now.getTime() + 60_000);
    const first = await api('POST', AssetsPaths.complete(task.id));
    expect(first.status).toBe(200);
    expect(RecoveryTask.parse(first.body)).toEqual({ ...task, status: 'done', completedAt: now.toISOString() });

    now = new Date(now.getTime() + 60_000);
    const again = await api('POST', AssetsPaths.complete(task.id), undefined, { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await api('GET', AssetsPaths.task(task.id))).body).toEqual(first.body);
  });

  it('when two completions race, then both answer the same completion', async () => {
    const task = await openTask();
    const [a, b] = await Promise.all([api('POST', AssetsPaths.complete(task.id)), api('POST', AssetsPaths.complete(task.id))]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toEqual(b.body);
  });

  it('when tasks are listed a page at a time, then pages follow nextOffset without overlap', async () => {
    const employeeId = `e-paging-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 3; i++) {
      now = new Date(now.getTime() + 1000);
      await handler.handle(resignationSubmitted({ employeeId }), delivery);
    }
    const page1 = RecoveryTaskList.parse((await api('GET', `${AssetsPaths.tasks}?employeeId=${employeeId}&limit=2`)).body);
    expect(page1.items).toHaveLength(2);
    expect(page1.nextOffset).toBe(2);
    const page2 = RecoveryTaskList.parse((await api('GET', `${AssetsPaths.tasks}?employeeId=${employeeId}&limit=2&offset=2`)).body);
    expect(page2.items).toHaveLength(1);
    expect(page2.nextOffset).toBeNull();
    expect(new Set([...page1.items, ...page2.items].map((t) => t.id)).size).toBe(3);

    const open = RecoveryTaskList.parse((await api('GET', `${AssetsPaths.tasks}?employeeId=${employeeId}&status=done`)).body);
    expect(open.items).toEqual([]);
  });

  it('when the OpenAPI document is generated, then it describes the extension routes', async () => {
    const doc = await requestJson<{ paths: Record<string, Record<string, unknown>> }>(base, 'GET', '/openapi.json'); // public: no credentials
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths['/api/asset-recovery-tasks'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.body.paths['/api/asset-recovery-tasks/{id}'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.body.paths['/api/asset-recovery-tasks/{id}/complete'] ?? {})).toEqual(['post']);
  });

  it('when the request is malformed or names no task, then a problem+json answers and nothing changes', async () => {
    const badId = await api('POST', AssetsPaths.complete('not-a-uuid'));
    expect(badId.status).toBe(400);
    expect(badId.contentType).toContain('application/problem+json');
    const badQuery = await api('GET', `${AssetsPaths.tasks}?resignationId=nope`);
    expect(badQuery.status).toBe(400);
    const missing = await api('POST', AssetsPaths.complete(randomUUID()));
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
  });
});
