import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { Pool } from '@ems/platform';
import { DecisionAnnounced, DecisionAnnouncementFailed, EventSources, EventTypes } from '@ems/contracts/events';
import { newTraceparent, type CloudEvent, type Subscription } from '@ems/eventbus';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { ANNOUNCE_DECISION_SUBSCRIBER, startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { exitConfirmedEvent, retainedEvent, withdrawnEvent } from './decision-events.ts';
import { bootService, decisionNotice, followUp, freePort, openCase, openDatabase, postEmail, waitFor, type RunningService, type TestCase } from './harness.ts';

/**
 * The decision subscriber driven by hand (a recording bus: the test delivers, redelivers and
 * dead-letters events itself), with real PostgreSQL and real SMTP servers on loopback.
 *
 * Every instance but the one of the SMTP-down test runs without its dispatcher, so no instance
 * retries (and delivers elsewhere) another test's emails.
 */

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
  svc = await bootService(database, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl }, { start: false });
  subscriber = subscriptionOf(svc);
});

afterEach(async () => {
  // Instances a test booted (then the SMTP servers they talk to) stop with it: a dispatcher left
  // running would claim the next test's emails.
  while (cleanup.length) await cleanup.pop()!();
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

function subscriptionOf(running: RunningService): Subscription {
  const found = running.service.subscriptions?.find((s) => s.name === ANNOUNCE_DECISION_SUBSCRIBER);
  if (!found) throw new Error('no subscriber');
  return found;
}

async function boot(deps: Parameters<typeof bootService>[1], options: { start?: boolean } = { start: false }): Promise<RunningService> {
  const running = await bootService(database, { bus, reactToEvents: true, caseUrl, ...deps }, options);
  cleanup.push(() => running.close());
  return running;
}

/** A real SMTP server with custom behaviour; messages it accepts are parsed with mailparser. */
async function smtpServer(options: ConstructorParameters<typeof SMTPServer>[0]): Promise<{ url: string }> {
  const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return { url: `smtp://127.0.0.1:${address.port}` };
}

const deliver = (event: CloudEvent, s: Subscription = subscriber, attempt = 1) => s.handle(event, { attempt, lastAttempt: false });
const traceId = (traceparent: string) => traceparent.split('-')[1];

interface EmailRowView {
  id: string;
  purpose: string;
  status: string;
  recipient: string;
  message_id: string;
  causation_id: string | null;
  correlation_id: string | null;
}
async function emailsOf(resignationId: string): Promise<EmailRowView[]> {
  const { rows } = await pool.query<EmailRowView>(
    'SELECT id, purpose, status, recipient, message_id, causation_id, correlation_id FROM notification.emails WHERE resignation_id = $1 ORDER BY purpose DESC',
    [resignationId],
  );
  return rows;
}
const published = async (type: string, resignationId: string) => (await bus.published(type)).filter((e) => e.subject === resignationId);
const announced = (resignationId: string) => published(EventTypes.decisionAnnounced, resignationId);
const failures = (resignationId: string) => published(EventTypes.decisionAnnouncementFailed, resignationId);
const messagesTo = (address: string) => smtp.messages().filter((m) => m.envelope.to.includes(address));

describe('notification.announce-decision-when-decided', () => {
  it('when the employee is retained, then manager and employee each get one notice worded for them, and one decisionAnnounced names both', async () => {
    const event = retainedEvent();
    const { employee, manager } = event.data;
    await deliver(event);

    const emails = await emailsOf(event.data.resignationId);
    expect(emails.map((e) => [e.purpose, e.recipient, e.status, e.causation_id, e.correlation_id])).toEqual([
      ['decision-notice:retained:1:manager', manager!.email, 'sent', event.id, event.correlationid],
      ['decision-notice:retained:1:employee', employee.email, 'sent', event.id, event.correlationid],
    ]);

    const [toManager, ...moreToManager] = messagesTo(manager!.email);
    expect(moreToManager).toHaveLength(0);
    expect(toManager!.to).toEqual([manager!.email]);
    expect(toManager!.subject).toBe('Resignation retained: Alice Leaver stays');
    expect(toManager!.text).toContain('Dear Dana Boss,');
    expect(toManager!.text).toContain('Alice Leaver is staying: HR has recorded the decision to retain them');
    expect(toManager!.text).toContain('Note from HR:\nThank you for everything');
    expect(toManager!.text).toContain(caseUrl(event.data.resignationId));
    expect(toManager!.html).toContain(`<a href="${caseUrl(event.data.resignationId)}">View the case</a>`);

    const [toEmployee, ...moreToEmployee] = messagesTo(employee.email);
    expect(moreToEmployee).toHaveLength(0);
    expect(toEmployee!.subject).toBe('Your resignation: you are staying');
    expect(toEmployee!.text).toContain('Dear Alice Leaver,');
    expect(toEmployee!.text).toContain('Your access to critical systems, suspended during the exit process, is being restored');

    const [outcome, ...again] = await announced(event.data.resignationId);
    expect(again).toHaveLength(0);
    expect(DecisionAnnounced.parse(outcome!.data)).toEqual({
      resignationId: event.data.resignationId,
      decision: 'retained',
      revision: 1,
      emailIds: emails.map((e) => e.id),
      recipients: [manager!.email, employee.email],
    });
    expect(outcome).toMatchObject({ source: EventSources.notification, subject: event.data.resignationId, correlationid: event.correlationid });
    expect(traceId(outcome!.traceparent)).toBe(traceId(event.traceparent));
    expect(await failures(event.data.resignationId)).toHaveLength(0);
  });

  it('when the exit is confirmed, then both learn the last working day and that access ends at the end of it (Berlin midnight)', async () => {
    const event = exitConfirmedEvent();
    await deliver(event);

    const [toManager] = messagesTo(event.data.manager!.email);
    expect(toManager!.subject).toBe('Exit confirmed: Alice Leaver, last working day Tuesday, 31 March 2026');
    expect(toManager!.text).toContain("Alice Leaver's access to company systems ends at the end of that day (midnight, UTC+02:00).");
    const [toEmployee] = messagesTo(event.data.employee.email);
    expect(toEmployee!.subject).toBe('Your exit is confirmed: last working day Tuesday, 31 March 2026');
    expect(toEmployee!.text).toContain('Your access to company systems ends at the end of that day (midnight, UTC+02:00).');
    const [outcome] = await announced(event.data.resignationId);
    expect(outcome!.data).toMatchObject({ decision: 'exit_confirmed', revision: 1 });
  });

  it('when the employee withdrew and has no manager, then only the employee is told and decisionAnnounced names only them', async () => {
    const event = withdrawnEvent({ manager: null, note: null });
    await deliver(event);

    const emails = await emailsOf(event.data.resignationId);
    expect(emails.map((e) => e.purpose)).toEqual(['decision-notice:withdrawn:1:employee']);
    const [message] = messagesTo(event.data.employee.email);
    expect(message!.subject).toBe('Your resignation has been withdrawn');
    expect(message!.text).not.toContain('Note from HR');
    const [outcome, ...again] = await announced(event.data.resignationId);
    expect(again).toHaveLength(0);
    expect(outcome!.data).toMatchObject({ decision: 'withdrawn', revision: 1, emailIds: [emails[0]!.id], recipients: [event.data.employee.email] });
  });

  it('when the same decision event is delivered again, and then 6 times at once, then two emails are sent in all and one decisionAnnounced published', async () => {
    const event = retainedEvent();
    await deliver(event);
    await deliver(event, subscriber, 2);
    await Promise.all(Array.from({ length: 6 }, () => deliver(event, subscriber, 3)));

    expect(await emailsOf(event.data.resignationId)).toHaveLength(2);
    // Barrier (the dispatcher is not started here): both notices sent and no delivery holds a claim — a second send
    // needs a claim, so none is in flight once this holds.
    await waitFor('both notices sent, no delivery in flight', async () => {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM notification.emails WHERE resignation_id = $1 AND status = 'sent' AND claim_token IS NULL", [event.data.resignationId]);
      return rows[0]!.n === 2 ? true : undefined;
    });
    expect(messagesTo(event.data.manager!.email)).toHaveLength(1);
    expect(messagesTo(event.data.employee.email)).toHaveLength(1);
    expect(await announced(event.data.resignationId)).toHaveLength(1);
  });

  it('when the same decision is published again under a new event id, then nothing more is sent or announced', async () => {
    const first = withdrawnEvent();
    await deliver(first);
    const republished = withdrawnEvent({ resignationId: first.data.resignationId, manager: first.data.manager, employeeEmail: first.data.employee.email });
    await deliver(republished);

    expect(await emailsOf(first.data.resignationId)).toHaveLength(2);
    expect(messagesTo(first.data.employee.email)).toHaveLength(1);
    expect(await announced(first.data.resignationId)).toHaveLength(1);
  });

  it('when the exit is confirmed again with another day (revision 2), then a new pair is sent with the new day and announced as revision 2', async () => {
    const first = exitConfirmedEvent();
    const { resignationId, manager, employee } = first.data;
    await deliver(first);
    const second = exitConfirmedEvent({ resignationId, manager, employeeEmail: employee.email, revision: 2, lastWorkingDay: '2026-04-30', revokeAt: '2026-04-30T22:00:00.000Z' });
    await deliver(second);
    await deliver(second, subscriber, 2);

    expect((await emailsOf(resignationId)).map((e) => e.purpose).sort()).toEqual([
      'decision-notice:exit_confirmed:1:employee',
      'decision-notice:exit_confirmed:1:manager',
      'decision-notice:exit_confirmed:2:employee',
      'decision-notice:exit_confirmed:2:manager',
    ]);
    expect(messagesTo(employee.email).map((m) => m.subject)).toEqual([
      'Your exit is confirmed: last working day Tuesday, 31 March 2026',
      'Your exit is confirmed: last working day Thursday, 30 April 2026',
    ]);
    expect(messagesTo(manager!.email)).toHaveLength(2);
    const outcomes = await announced(resignationId);
    expect(outcomes.map((e) => DecisionAnnounced.parse(e.data).revision)).toEqual([1, 2]);
    expect(outcomes[1]!.data).toMatchObject({ recipients: [manager!.email, employee.email] });
  });

  it('when an older exit confirmation arrives after a newer one, then it is not announced (nobody is told a day that no longer holds)', async () => {
    const newer = exitConfirmedEvent({ revision: 2, lastWorkingDay: '2026-04-30', revokeAt: '2026-04-30T22:00:00.000Z' });
    const { resignationId, manager, employee } = newer.data;
    await deliver(newer);
    await deliver(exitConfirmedEvent({ resignationId, manager, employeeEmail: employee.email, revision: 1 }));

    expect((await emailsOf(resignationId)).map((e) => e.purpose)).toEqual(['decision-notice:exit_confirmed:2:manager', 'decision-notice:exit_confirmed:2:employee']);
    expect(messagesTo(employee.email).map((m) => m.subject)).toEqual(['Your exit is confirmed: last working day Thursday, 30 April 2026']);
    expect((await announced(resignationId)).map((e) => DecisionAnnounced.parse(e.data).revision)).toEqual([2]);
  });

  it('when both notices of many announcements are accepted by the SMTP server at the same instant, then each announcement is published exactly once', async () => {
    // The server holds every message until a second one is in, then accepts both at once: the two
    // notices of a decision record their final status concurrently.
    const held: (() => void)[] = [];
    const gate = await smtpServer({
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          () => {
            held.push(() => callback());
            if (held.length >= 2) for (const release of held.splice(0)) release();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    const instance = await boot({ smtpUrl: gate.url, fastPathTimeoutMs: 10_000 });
    const events = Array.from({ length: 8 }, () => retainedEvent());
    for (const event of events) await deliver(event, subscriptionOf(instance));

    for (const event of events) {
      const emails = await emailsOf(event.data.resignationId);
      expect(emails.map((e) => e.status)).toEqual(['sent', 'sent']);
      const outcomes = await announced(event.data.resignationId);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]!.data).toMatchObject({ emailIds: emails.map((e) => e.id) });
    }
  });

  it('when the SMTP server is down, then both notices are retried until given up and one decisionAnnouncementFailed names both recipients', async () => {
    const port = await freePort();
    const instance = await boot({ smtpUrl: `smtp://127.0.0.1:${port}`, maxAttempts: 3, retryBaseMs: 100, dispatchIntervalMs: 50 }, { start: true });
    const event = exitConfirmedEvent();
    await deliver(event, subscriptionOf(instance));

    const emails = await waitFor('both notices to be given up', async () => {
      const rows = await pool.query<{ status: string; attempts: number; last_error: string }>(
        'SELECT status, attempts, last_error FROM notification.emails WHERE resignation_id = $1',
        [event.data.resignationId],
      );
      return rows.rows.length === 2 && rows.rows.every((r) => r.status === 'failed') ? rows.rows : undefined;
    });
    expect(emails.map((e) => e.attempts)).toEqual([3, 3]);

    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = DecisionAnnouncementFailed.parse(failed!.data);
    expect(data.causationId).toBe(event.id);
    expect(data.reason).toContain(event.data.manager!.email);
    expect(data.reason).toContain(event.data.employee.email);
    expect(data.reason).toMatch(/ECONNREFUSED|ECONNECTION/);
    expect(failed).toMatchObject({ source: EventSources.notification, correlationid: event.correlationid });
    expect(await announced(event.data.resignationId)).toHaveLength(0);
  });

  it('when the notices cannot be rendered (the case link is not http), then decisionAnnouncementFailed says why, nothing is stored, and a redelivery publishes nothing more', async () => {
    const instance = await boot({ smtpUrl: smtp.url, caseUrl: (id) => `ftp://ems.example/${id}` });
    const event = retainedEvent();
    await deliver(event, subscriptionOf(instance));
    await deliver(event, subscriptionOf(instance), 2);

    expect(await emailsOf(event.data.resignationId)).toHaveLength(0);
    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = DecisionAnnouncementFailed.parse(failed!.data);
    expect(data.causationId).toBe(event.id);
    expect(data.reason).toContain('caseUrl');
  });

  it('when a decision event is dead-lettered, then decisionAnnouncementFailed carries the reason and the cause', async () => {
    const event = exitConfirmedEvent();
    await subscriber.onDeadLetter!(event, 'connection terminated unexpectedly (5 attempts)');
    const [failed, ...more] = await failures(event.data.resignationId);
    expect(more).toHaveLength(0);
    // It names the announcement that failed, so the case can tell which revision it concerns.
    expect(failed!.data).toEqual({
      resignationId: event.data.resignationId,
      decision: 'exit_confirmed',
      revision: event.data.revision,
      reason: 'connection terminated unexpectedly (5 attempts)',
      causationId: event.id,
    });
    expect(failed!.correlationid).toBe(event.correlationid);
  });
});

describe('decision notices and follow-ups requested over HTTP (orchestration, bus configured)', () => {
  const notice = (kase: TestCase, audience: 'manager' | 'employee') => decisionNotice(kase, audience, { decision: 'exit_confirmed', revision: 1 });

  it("when the manager's and then the employee's notice are posted, then decisionAnnounced follows once, on the caller's correlation id and trace", async () => {
    const kase = openCase();
    const { resignationId } = kase;
    const traceparent = newTraceparent();
    const headers = { 'x-correlation-id': `corr-${resignationId}`, traceparent };
    const toManager = await postEmail(svc, notice(kase, 'manager'), headers);
    expect(toManager.body.status).toBe('sent');
    expect(toManager.body.to).toBe(kase.manager.email);
    expect(await announced(resignationId)).toHaveLength(0); // the employee's notice is still to come

    const toEmployee = await postEmail(svc, notice(kase, 'employee'), headers);
    expect(toEmployee.status).toBe(201);
    expect(toEmployee.body.status).toBe('sent');
    expect(toEmployee.body.to).toBe(kase.employee.email);
    const [outcome, ...again] = await announced(resignationId);
    expect(again).toHaveLength(0);
    expect(outcome).toMatchObject({
      correlationid: `corr-${resignationId}`,
      data: { resignationId, decision: 'exit_confirmed', revision: 1, emailIds: [toManager.body.id, toEmployee.body.id] },
    });
    expect(traceId(outcome!.traceparent)).toBe(traceId(traceparent));

    // A repeated request finds the stored email and announces nothing more.
    expect((await postEmail(svc, notice(kase, 'employee'), headers)).status).toBe(200);
    expect(await announced(resignationId)).toHaveLength(1);
  });

  it('when a follow-up is posted, then it is delivered with its wording and publishes no event', async () => {
    const kase = openCase();
    const { resignationId, hrLead, hrPartner } = kase;
    const res = await postEmail(svc, followUp(kase, 'escalation', { milestone: 'decision', data: { caseUrl: caseUrl(resignationId) } }));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');
    expect(res.body.to).toBe(hrLead.email);

    const [message, ...more] = smtp.messages().filter((m) => m.messageId === res.body.messageId);
    expect(more).toHaveLength(0);
    expect(message!.envelope.to).toEqual([hrLead.email]);
    expect(message!.subject).toBe(`Escalation: no decision yet on the resignation of ${kase.employee.name}`);
    expect(message!.text).toContain(`Dear ${hrLead.name},`);
    expect(message!.text).toContain(`It was due by Friday, 20 March 2026, 08:00 UTC, and a reminder to ${hrPartner.name} (HR partner) was not acted on.`);
    expect(message!.html).toContain(`<a href="${caseUrl(resignationId)}">View the case</a>`);
    expect((await bus.published()).filter((e) => e.subject === resignationId)).toHaveLength(0);
  });

  it('when a follow-up names an unknown milestone, then the request is refused with a problem naming the field', async () => {
    const res = await postEmail(svc, followUp(openCase(), 'reminder', { data: { milestone: 'coffee' } }));
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(JSON.stringify(res.body)).toContain('body.data.milestone');
  });
});
