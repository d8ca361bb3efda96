import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import { createLogger, type Pool } from '@ems/platform';
import { sleep, waitFor } from '@ems/platform/testing';
import { EventSchemas, EventSources, EventTypes, ManagerNotified } from '@ems/contracts/events';
import { createEvent, createPostgresEventBus, newTraceparent, type CloudEvent, type EventBus } from '@ems/eventbus';
import { noManagerEmailId, startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { bootService, openDatabase, type RunningService } from './harness.ts';

/** The subscriber run by the real PostgreSQL bus: the manager gets one email, EMS hears about it once. */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let db: Kysely<Record<string, never>>;
let bus: EventBus;
let smtp: CaptureSmtpServer;
let svc: RunningService;
const outcomes: CloudEvent[] = [];

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
  bus = createPostgresEventBus({ pool, log, catalogue: { ...EventSchemas }, pollingIntervalSeconds: 0.5 });
  smtp = await startCaptureSmtpServer();
  svc = await bootService(pool, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl: (id) => `https://ems.example/cases/${id}` });
  for (const s of svc.service.subscriptions ?? []) await bus.subscribe(s);
  // Stands in for EMS: listens to what Notification says it did.
  await bus.subscribe({
    name: 'test.notification-outcomes',
    types: [EventTypes.managerNotified, EventTypes.managerNotificationFailed],
    async handle(event) {
      outcomes.push(event);
    },
  });
  await bus.start();
});

afterAll(async () => {
  await bus?.stop();
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

function resignationSubmitted(manager: { id: string; name: string; email: string } | null) {
  const resignationId = randomUUID();
  return createEvent({
    type: EventTypes.resignationSubmitted,
    source: EventSources.ems,
    subject: resignationId,
    correlationId: resignationId,
    traceparent: newTraceparent(),
    data: {
      resignationId,
      employee: { id: 'E1001', name: 'Alice Leaver', email: 'alice@acme.example', timezone: 'Europe/Berlin' },
      manager,
      hrPartnerId: 'HR1',
      lastWorkingDay: '2026-03-31',
      reason: null,
      submittedAt: new Date().toISOString(),
    },
  });
}

const publish = (event: CloudEvent) => db.transaction().execute((trx) => bus.publish(trx, [event]));
const outcomesOf = (resignationId: string) => outcomes.filter((e) => e.subject === resignationId);

describe('notification through the PostgreSQL event bus', () => {
  it('when resignationSubmitted is published twice (a duplicate on the wire), then the manager gets one email and one managerNotified reaches its listeners', async () => {
    const manager = { id: 'E1000', name: 'Dana Boss', email: `dana.${randomUUID().slice(0, 8)}@acme.example` };
    const event = resignationSubmitted(manager);
    await publish(event);
    await publish(event);

    const [notified] = await waitFor(() => (outcomesOf(event.data.resignationId).length > 0 ? outcomesOf(event.data.resignationId) : undefined), 'managerNotified');
    expect(notified).toMatchObject({ type: EventTypes.managerNotified, source: EventSources.notification, correlationid: event.correlationid });
    const data = ManagerNotified.parse(notified!.data);
    await sleep(1500); // the duplicate has been delivered by now
    const received = smtp.messages().filter((m) => m.envelope.to.includes(manager.email));
    expect(received.map((m) => m.messageId)).toEqual([data.messageId]);
    expect(outcomesOf(event.data.resignationId)).toHaveLength(1);
  });

  it('when the employee has no manager, then managerNotified (skipped) reaches the listeners and no email is sent', async () => {
    const event = resignationSubmitted(null);
    await publish(event);
    const [notified] = await waitFor(() => (outcomesOf(event.data.resignationId).length > 0 ? outcomesOf(event.data.resignationId) : undefined), 'managerNotified');
    expect(notified!.data).toMatchObject({ skipped: 'no manager', emailId: noManagerEmailId(event.data.resignationId) });
    const { rows } = await pool.query('SELECT 1 FROM notification.emails WHERE resignation_id = $1', [event.data.resignationId]);
    expect(rows).toHaveLength(0);
  });
});
