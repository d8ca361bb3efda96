import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@ems/platform';
import { EventSources, EventTypes, ManagerNotified } from '@ems/contracts/events';
import type { CloudEvent, EventBus, EventBusTestHooks } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import { noManagerEmailId, NOTIFY_MANAGER_SUBSCRIBER, startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { bootService, openDatabase, quiet, type RunningService } from './harness.ts';

/** The subscriber run by the real PostgreSQL bus: the manager gets one email, EMS hears about it once. */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let smtp: CaptureSmtpServer;
let svc: RunningService;
// Stands in for EMS: listens to what Notification says it did.
const outcomes = createEventProbe('test.notification-outcomes', [EventTypes.managerNotified, EventTypes.managerNotificationFailed]);

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  bus = createTestPostgresBus(pool);
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl: (id) => `https://ems.example/cases/${id}` });
  for (const s of svc.service.subscriptions ?? []) await bus.subscribe(s);
  await bus.subscribe(outcomes.subscription);
  await bus.start();
});

afterAll(async () => {
  await bus?.stop();
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

const publish = (event: CloudEvent) => publishInTransaction(pool, bus, [event]);

describe('notification through the PostgreSQL event bus', () => {
  it('when resignationSubmitted is published twice (a duplicate on the wire), then the manager gets one email and one managerNotified reaches its listeners', async () => {
    const manager = { id: 'E1000', name: 'Dana Boss', email: `dana.${randomUUID().slice(0, 8)}@acme.example` };
    const event = resignationSubmittedEvent({ manager });
    await publish(event);
    await publish(event);

    const [notified] = await outcomes.waitFor(event.data.resignationId, 'managerNotified');
    expect(notified).toMatchObject({ type: EventTypes.managerNotified, source: EventSources.notification, correlationid: event.correlationid });
    const data = ManagerNotified.parse(notified!.data);
    // Barrier: the duplicate handled, a dispatcher round after it, and every outcome delivered to the listener.
    await quiet(bus, svc, { reactions: [NOTIFY_MANAGER_SUBSCRIBER], listeners: [outcomes.subscription.name] });
    const received = smtp.messages().filter((m) => m.envelope.to.includes(manager.email));
    expect(received.map((m) => m.messageId)).toEqual([data.messageId]);
    expect(outcomes.about(event.data.resignationId)).toHaveLength(1);
  });

  it('when the employee has no manager, then managerNotified (skipped) reaches the listeners and no email is sent', async () => {
    const event = resignationSubmittedEvent({ manager: null });
    await publish(event);
    const [notified] = await outcomes.waitFor(event.data.resignationId, 'managerNotified');
    expect(notified!.data).toMatchObject({ skipped: 'no manager', emailId: noManagerEmailId(event.data.resignationId) });
    const { rows } = await pool.query('SELECT 1 FROM notification.emails WHERE resignation_id = $1', [event.data.resignationId]);
    expect(rows).toHaveLength(0);
  });
});
