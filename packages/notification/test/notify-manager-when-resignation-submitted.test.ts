import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { createLogger, type Pool } from '@ems/platform';
import { EventSources, EventTypes, ManagerNotificationFailed, ManagerNotified, type EventData } from '@ems/contracts/events';
import { newTraceparent, type CloudEvent, type Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import {
  ANNOUNCE_DECISION_SUBSCRIBER,
  createNotificationService,
  noManagerEmailId,
  NOTIFY_MANAGER_SUBSCRIBER,
  startCaptureSmtpServer,
  TELL_EXIT_SUBSCRIBER,
  type CaptureSmtpServer,
} from '../src/index.ts';
import { bootService, followUp, managerNotice, openCase, openDatabase, postEmail, recipientsFor, waitFor, type RunningService } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let bus: RecordingBus;
let smtp: CaptureSmtpServer;
let svc: RunningService;
let subscriber: Subscription;
const cleanup: (() => Promise<void>)[] = [];

const caseUrl = (id: string) => `https://ems.example/cases/${id}`;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  bus = await createRecordingBus(pool);
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl });
  subscriber = subscriptionOf(svc);
});

afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

function subscriptionOf(running: RunningService): Subscription {
  const found = running.service.subscriptions?.find((s) => s.name === NOTIFY_MANAGER_SUBSCRIBER);
  if (!found) throw new Error('no subscriber');
  return found;
}

/** Another instance of the service (its own settings) on the same database and bus. */
async function boot(deps: Parameters<typeof bootService>[1], options?: { start?: boolean }): Promise<RunningService> {
  const running = await bootService(database, { bus, reactToEvents: true, caseUrl, ...deps }, options);
  cleanup.push(() => running.close());
  return running;
}

type Submitted = EventData<typeof EventTypes.resignationSubmitted>;

/** The event EMS publishes when an employee resigns; a fresh manager mailbox per event. */
function resignationSubmitted(over: { manager?: Submitted['manager'] } = {}): CloudEvent<Submitted> {
  const resignationId = randomUUID();
  return resignationSubmittedEvent({
    resignationId,
    correlationId: `corr-${resignationId}`,
    manager: over.manager === undefined ? { id: 'E1000', name: 'Dana Boss', email: `dana.${resignationId.slice(0, 8)}@acme.example` } : over.manager,
    reason: 'A new opportunity',
    submittedAt: '2026-03-02T09:00:00.000Z',
  });
}

const deliver = (event: CloudEvent, s: Subscription = subscriber) => s.handle(event, { attempt: 1, lastAttempt: false });
const traceId = (traceparent: string) => traceparent.split('-')[1];

interface EmailRowView {
  id: string;
  status: string;
  recipient: string;
  message_id: string;
  sent_at: Date | null;
  correlation_id: string | null;
  causation_id: string | null;
  claim_token: string | null;
}
async function emailsOf(resignationId: string): Promise<EmailRowView[]> {
  const { rows } = await pool.query<EmailRowView>(
    'SELECT id, status, recipient, message_id, sent_at, correlation_id, causation_id, claim_token FROM notification.emails WHERE resignation_id = $1',
    [resignationId],
  );
  return rows;
}
async function processed(eventId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notification.processed_events WHERE event_id = $1', [eventId]);
  return rows[0]!.n;
}
const notified = async (resignationId: string) => (await bus.published(EventTypes.managerNotified)).filter((e) => e.subject === resignationId);
const failures = async (resignationId: string) => (await bus.published(EventTypes.managerNotificationFailed)).filter((e) => e.subject === resignationId);
const messagesTo = (address: string) => smtp.messages().filter((m) => m.envelope.to.includes(address));

describe('notification.notify-manager-when-resignation-submitted', () => {
  it('when an employee with a manager resigned, then the manager gets the notice with the case link, and managerNotified follows on the same case and trace', async () => {
    const event = resignationSubmitted();
    const manager = event.data.manager!;
    await deliver(event);

    const [email, ...more] = await emailsOf(event.data.resignationId);
    expect(more).toHaveLength(0);
    expect(email).toMatchObject({ status: 'sent', recipient: manager.email, correlation_id: event.correlationid, causation_id: event.id });
    const [message, ...others] = messagesTo(manager.email);
    expect(others).toHaveLength(0);
    expect(message!.subject).toBe('Resignation: Alice Leaver, last working day Tuesday, 31 March 2026');
    expect(message!.text).toContain('Dear Dana Boss');
    expect(message!.text).toContain('(employee ID E1001)');
    expect(message!.text).toContain('A new opportunity');
    expect(message!.text).toContain(caseUrl(event.data.resignationId));

    const [published, ...again] = await notified(event.data.resignationId);
    expect(again).toHaveLength(0);
    expect(ManagerNotified.parse(published!.data)).toEqual({ resignationId: event.data.resignationId, emailId: email!.id, to: manager.email, messageId: email!.message_id });
    expect(published).toMatchObject({ source: EventSources.notification, subject: event.data.resignationId, correlationid: event.correlationid });
    expect(published!.time).toBe(email!.sent_at!.toISOString());
    expect(traceId(published!.traceparent)).toBe(traceId(event.traceparent));
    expect(await failures(event.data.resignationId)).toHaveLength(0);
  });

  it('when the same event is delivered twice in a row, then one email is stored and sent and one managerNotified published', async () => {
    const event = resignationSubmitted();
    await deliver(event);
    await subscriber.handle(event, { attempt: 2, lastAttempt: false });

    expect(await emailsOf(event.data.resignationId)).toHaveLength(1);
    expect(await processed(event.id)).toBe(1);
    // Barrier: a dispatcher round begun after both deliveries has ended — a second send would have gone out in it.
    await svc.service.dispatcher.drained();
    expect(messagesTo(event.data.manager!.email)).toHaveLength(1);
    expect(await notified(event.data.resignationId)).toHaveLength(1);
  });

  it('when the same event is delivered 6 times at once, then one email is sent and one managerNotified published', async () => {
    const event = resignationSubmitted();
    await Promise.all(Array.from({ length: 6 }, () => deliver(event)));

    await waitFor('the email to be sent', async () => ((await emailsOf(event.data.resignationId))[0]?.status === 'sent' ? true : undefined));
    expect(await emailsOf(event.data.resignationId)).toHaveLength(1);
    await svc.service.dispatcher.drained();
    expect(messagesTo(event.data.manager!.email)).toHaveLength(1);
    expect(await notified(event.data.resignationId)).toHaveLength(1);
  });

  it('when four employees resign at once, then their notices are stored in one transaction — one statement marks the four events processed — and each manager gets one', async () => {
    // Statements that mark events processed, counted on every connection the service takes from now on.
    let marks = 0;
    const wrapped = new WeakSet<object>();
    const count = (client: object) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const c = client as { query: (...args: unknown[]) => unknown };
      const query = c.query.bind(client);
      c.query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: unknown } | undefined)?.text;
        if (typeof text === 'string' && text.includes('processed_events')) marks++;
        return query(...args);
      };
    };
    pool.on('acquire', count);
    try {
      const events = Array.from({ length: 4 }, () => resignationSubmitted());
      // As a worker hands over the batch it fetched: the four in one turn.
      await Promise.all(events.map((e) => deliver(e)));
      // Each delivery as if alone used a statement of its own: four.
      expect(marks, 'statements marking the four events processed').toBe(1);
      for (const event of events) {
        expect(await processed(event.id)).toBe(1);
        await waitFor('the notice to be sent', async () => ((await emailsOf(event.data.resignationId))[0]?.status === 'sent' ? true : undefined));
      }
      await svc.service.dispatcher.drained();
      for (const event of events) {
        expect(messagesTo(event.data.manager!.email)).toHaveLength(1);
        expect(await notified(event.data.resignationId)).toHaveLength(1);
      }
    } finally {
      pool.off('acquire', count);
    }
  });

  it('when the employee has no manager, then managerNotified says skipped with the email id derived from the case, no email exists, and a redelivery publishes nothing more', async () => {
    const event = resignationSubmitted({ manager: null });
    await deliver(event);
    await deliver(event);

    expect(await emailsOf(event.data.resignationId)).toHaveLength(0);
    const [published, ...more] = await notified(event.data.resignationId);
    expect(more).toHaveLength(0);
    expect(published!.data).toEqual({ resignationId: event.data.resignationId, emailId: noManagerEmailId(event.data.resignationId), to: '', messageId: null, skipped: 'no manager' });
    expect(published!.correlationid).toBe(event.correlationid);
  });

  it('when the transaction fails after managerNotified (no manager) was published, then neither the event nor the processed mark survive, and the redelivery publishes once', async () => {
    const event = resignationSubmitted({ manager: null });
    bus.failPublish({ type: EventTypes.managerNotified });
    await expect(deliver(event)).rejects.toThrow(/forced failure/);
    expect(await notified(event.data.resignationId)).toHaveLength(0);
    expect(await processed(event.id)).toBe(0);

    await subscriber.handle(event, { attempt: 2, lastAttempt: false });
    expect(await notified(event.data.resignationId)).toHaveLength(1);
    expect(await processed(event.id)).toBe(1);
  });

  it('when recording "sent" fails after managerNotified was published, then the email is not marked sent and no event survives', async () => {
    // Dispatcher off, short fast path: only the handler's own attempt runs.
    const instance = await boot({ smtpUrl: smtp.url, fastPathTimeoutMs: 300 }, { start: false });
    const event = resignationSubmitted();
    bus.failPublish({ type: EventTypes.managerNotified });
    await deliver(event, subscriptionOf(instance));
    // The handler answers after its fast path at the latest; stopping waits for the attempt it left running.
    await instance.close();

    const [email] = await emailsOf(event.data.resignationId);
    // The SMTP server has it (delivery is at-least-once), but the status update rolled back with the event.
    expect(messagesTo(event.data.manager!.email)).toHaveLength(1);
    expect(email).toMatchObject({ status: 'queued', sent_at: null });
    expect(email!.claim_token).not.toBeNull();
    expect(await notified(event.data.resignationId)).toHaveLength(0);
    expect(await processed(event.id)).toBe(1);
  });

  it('when the SMTP server refuses the manager for good, then managerNotificationFailed carries the SMTP error and the causing event', async () => {
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      },
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => refusing.close(() => resolve())));
    const address = refusing.server.address();
    if (!address || typeof address !== 'object') throw new Error('no port');
    const instance = await boot({ smtpUrl: `smtp://127.0.0.1:${address.port}`, maxAttempts: 1 });

    const event = resignationSubmitted();
    await deliver(event, subscriptionOf(instance));

    expect((await emailsOf(event.data.resignationId))[0]?.status).toBe('failed');
    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = ManagerNotificationFailed.parse(failed!.data);
    expect(data).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
    expect(data.reason).toMatch(/550/);
    expect(failed).toMatchObject({ source: EventSources.notification, correlationid: event.correlationid });
    expect(await notified(event.data.resignationId)).toHaveLength(0);
  });

  it('when the notice cannot be rendered (the case link is not http), then managerNotificationFailed says why, nothing is stored, and a redelivery publishes nothing more', async () => {
    const instance = await boot({ smtpUrl: smtp.url, caseUrl: (id) => `ftp://ems.example/${id}` }, { start: false });
    const event = resignationSubmitted();
    await deliver(event, subscriptionOf(instance));
    await deliver(event, subscriptionOf(instance));

    expect(await emailsOf(event.data.resignationId)).toHaveLength(0);
    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = ManagerNotificationFailed.parse(failed!.data);
    expect(data.causationId).toBe(event.id);
    expect(data.reason).toContain('caseUrl');
  });

  it('when an event is dead-lettered, then managerNotificationFailed carries the reason and the cause', async () => {
    const event = resignationSubmitted();
    await subscriber.onDeadLetter!(event, 'connection terminated unexpectedly (5 attempts)');
    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    expect(failed!.data).toEqual({ resignationId: event.data.resignationId, reason: 'connection terminated unexpectedly (5 attempts)', causationId: event.id });
    expect(failed!.correlationid).toBe(event.correlationid);
  });
});

describe('notification events in orchestration mode (HTTP, bus configured)', () => {
  it('when a manager notice is sent over HTTP, then managerNotified carries the caller’s correlation id and trace; a repeat publishes nothing', async () => {
    const request = managerNotice();
    const traceparent = newTraceparent();
    const res = await postEmail(svc, request, { 'idempotency-key': `${request.resignationId}:notifyManager`, 'x-correlation-id': 'corr-http', traceparent });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');

    const [published, ...more] = await notified(request.resignationId);
    expect(more).toHaveLength(0);
    expect(published).toMatchObject({ correlationid: 'corr-http', data: { resignationId: request.resignationId, emailId: res.body.id, to: request.to.email, messageId: res.body.messageId } });
    expect(traceId(published!.traceparent)).toBe(traceId(traceparent));

    expect((await postEmail(svc, request, { 'idempotency-key': `${request.resignationId}:notifyManager` })).status).toBe(200);
    expect((await postEmail(svc, request)).status).toBe(200);
    expect(await notified(request.resignationId)).toHaveLength(1);
  });

  it('when an email of another purpose is sent, then no event is published', async () => {
    const request = followUp(openCase(), 'reminder');
    const res = await postEmail(svc, request);
    expect(res.body.status).toBe('sent');
    expect((await bus.published()).filter((e) => e.subject === request.resignationId)).toHaveLength(0);
  });

  it('when a manager notice requested over HTTP fails for good, then managerNotificationFailed names the email as its cause and the resignation as its correlation', async () => {
    const instance = await boot({ smtpUrl: 'smtp://127.0.0.1:9', maxAttempts: 1, reactToEvents: false });
    const request = managerNotice();
    const res = await postEmail(instance, request);
    expect(res.body.status).toBe('failed');
    const [failed] = await failures(request.resignationId);
    expect(failed).toMatchObject({ correlationid: request.resignationId, data: { resignationId: request.resignationId, causationId: res.body.id } });
  });
});

describe('wiring', () => {
  const log = createLogger({ level: 'silent' });
  it('when no bus is given, then there are no subscriptions; asking to react without a bus is refused', () => {
    const smtpUrl = 'smtp://127.0.0.1:9';
    const recipients = recipientsFor(pool);
    expect(createNotificationService({ pool, log, smtpUrl, recipients }).subscriptions).toBeUndefined();
    expect(createNotificationService({ pool, log, smtpUrl, recipients, bus }).subscriptions).toBeUndefined();
    expect(() => createNotificationService({ pool, log, smtpUrl, recipients, reactToEvents: true })).toThrow(/needs a bus/);
    expect(createNotificationService({ pool, log, smtpUrl, recipients, bus, reactToEvents: true }).subscriptions?.map((s) => [s.name, s.types])).toEqual([
      [NOTIFY_MANAGER_SUBSCRIBER, [EventTypes.resignationSubmitted]],
      [ANNOUNCE_DECISION_SUBSCRIBER, [EventTypes.resignationRetained, EventTypes.resignationWithdrawn, EventTypes.exitConfirmed]],
      [TELL_EXIT_SUBSCRIBER, [EventTypes.involuntaryExitsStarted, EventTypes.exitAccessSuspended]],
    ]);
  });
});
