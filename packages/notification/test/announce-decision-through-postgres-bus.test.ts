import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Pool } from '@ems/platform';
import { sleep } from '@ems/platform/testing';
import { DecisionAnnounced, DecisionAnnouncementFailed, EventSources, EventTypes } from '@ems/contracts/events';
import type { CloudEvent, EventBus, EventBusTestHooks } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction } from '@ems/eventbus/testing';
import { exitConfirmedEvent, retainedEvent } from './decision-events.ts';
import { ANNOUNCE_DECISION_SUBSCRIBER } from '../src/index.ts';
import { bootService, openDatabase, quiet, type RunningService } from './harness.ts';

/**
 * The decision subscriber run by the real PostgreSQL bus, delivering to a real SMTP server that
 * parses what it accepts with mailparser. Mailboxes at greylisted.example are refused with a
 * temporary error every time, so their notices are retried until given up.
 */

interface Received {
  to: string[];
  mail: ParsedMail;
}

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let svc: RunningService;
let smtp: SMTPServer;
const received: Received[] = [];
const refusedAttempts = new Map<string, number>();
// Stands in for EMS: listens to what Notification says it did.
const outcomes = createEventProbe('test.decision-outcomes', [EventTypes.decisionAnnounced, EventTypes.decisionAnnouncementFailed]);

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!address.address.endsWith('@greylisted.example')) return callback();
      refusedAttempts.set(address.address, (refusedAttempts.get(address.address) ?? 0) + 1);
      callback(Object.assign(new Error('4.2.0 Greylisted, try again later'), { responseCode: 451 }));
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address);
      simpleParser(stream).then(
        (mail) => {
          received.push({ to, mail });
          callback();
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const address = smtp.server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');

  bus = createTestPostgresBus(pool);
  svc = await bootService(database, {
    smtpUrl: `smtp://127.0.0.1:${address.port}`,
    bus,
    reactToEvents: true,
    caseUrl: (id) => `https://ems.example/cases/${id}`,
    maxAttempts: 3,
    retryBaseMs: 200,
    dispatchIntervalMs: 50,
  });
  for (const s of svc.service.subscriptions ?? []) await bus.subscribe(s);
  await bus.subscribe(outcomes.subscription);
  await bus.start();
});

afterAll(async () => {
  await bus?.stop();
  await svc?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await database?.close();
});

const publish = (event: CloudEvent) => publishInTransaction(pool, bus, [event]);
const mailTo = (address: string) => received.filter((r) => r.to.includes(address)).map((r) => r.mail);

describe('decision announcements through the PostgreSQL event bus', () => {
  it('when a retention and an exit confirmation are each published twice, then each person gets one notice per decision and one decisionAnnounced per decision reaches the listeners', async () => {
    const retained = retainedEvent();
    const confirmed = exitConfirmedEvent();
    for (const event of [retained, confirmed, retained, confirmed]) await publish(event);

    const [retainedOutcome] = await outcomes.waitFor(retained.data.resignationId, 'decisionAnnounced (retained)');
    const [confirmedOutcome] = await outcomes.waitFor(confirmed.data.resignationId, 'decisionAnnounced (exit confirmed)');
    expect(retainedOutcome).toMatchObject({ type: EventTypes.decisionAnnounced, source: EventSources.notification, correlationid: retained.correlationid });
    expect(DecisionAnnounced.parse(retainedOutcome!.data)).toMatchObject({
      decision: 'retained',
      revision: 1,
      recipients: [retained.data.manager!.email, retained.data.employee.email],
    });
    expect(DecisionAnnounced.parse(confirmedOutcome!.data)).toMatchObject({ decision: 'exit_confirmed', revision: 1 });

    // Barrier: the duplicates handled, a dispatcher round after them, and every outcome delivered to the listener.
    await quiet(bus, svc, { reactions: [ANNOUNCE_DECISION_SUBSCRIBER], listeners: [outcomes.subscription.name] });
    expect(outcomes.about(retained.data.resignationId)).toHaveLength(1);
    expect(outcomes.about(confirmed.data.resignationId)).toHaveLength(1);

    const [managerMail, ...moreToManager] = mailTo(retained.data.manager!.email);
    expect(moreToManager).toHaveLength(0);
    expect(managerMail!.subject).toBe('Resignation retained: Alice Leaver stays');
    expect(managerMail!.text).toContain('Dear Dana Boss,');
    expect(managerMail!.html).toContain('Alice Leaver is staying');
    const [employeeMail, ...moreToEmployee] = mailTo(retained.data.employee.email);
    expect(moreToEmployee).toHaveLength(0);
    expect(employeeMail!.subject).toBe('Your resignation: you are staying');

    const confirmedMail = [...mailTo(confirmed.data.manager!.email), ...mailTo(confirmed.data.employee.email)];
    expect(confirmedMail.map((m) => m.subject)).toEqual([
      'Exit confirmed: Alice Leaver, last working day Tuesday, 31 March 2026',
      'Your exit is confirmed: last working day Tuesday, 31 March 2026',
    ]);
    expect(confirmedMail[1]!.text).toContain('Your access to company systems ends at the end of that day (midnight, UTC+02:00).');
    // The ids announced are the messages that arrived.
    const announcedIds = DecisionAnnounced.parse(confirmedOutcome!.data).emailIds;
    const { rows } = await pool.query<{ id: string; message_id: string }>('SELECT id, message_id FROM notification.emails WHERE resignation_id = $1', [confirmed.data.resignationId]);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(announcedIds));
    expect(new Set(confirmedMail.map((m) => m.messageId))).toEqual(new Set(rows.map((r) => r.message_id)));
  });

  it('when the exit is confirmed again with a new day (revision 2), then a new pair is sent and announced as revision 2', async () => {
    const first = exitConfirmedEvent();
    const { resignationId, manager, employee } = first.data;
    await publish(first);
    await outcomes.waitFor(resignationId, 'decisionAnnounced (revision 1)');

    await publish(exitConfirmedEvent({ resignationId, manager, employeeEmail: employee.email, revision: 2, lastWorkingDay: '2026-04-30', revokeAt: '2026-04-30T22:00:00.000Z' }));
    const all = await waitForCount(resignationId, 2);
    expect(all.map((e) => DecisionAnnounced.parse(e.data).revision)).toEqual([1, 2]);
    expect(mailTo(employee.email).map((m) => m.subject)).toEqual([
      'Your exit is confirmed: last working day Tuesday, 31 March 2026',
      'Your exit is confirmed: last working day Thursday, 30 April 2026',
    ]);
    expect(mailTo(manager!.email).map((m) => m.subject)).toEqual([
      'Exit confirmed: Alice Leaver, last working day Tuesday, 31 March 2026',
      'Exit confirmed: Alice Leaver, last working day Thursday, 30 April 2026',
    ]);
  });

  it("when the employee's mailbox is refused again and again, then the notice is retried up to the limit and one decisionAnnouncementFailed reaches the listeners", async () => {
    const event = retainedEvent({ employeeEmail: `alice.${Date.now()}@greylisted.example` });
    await publish(event);

    const [failed] = await outcomes.waitFor(event.data.resignationId, 'decisionAnnouncementFailed', 30_000);
    expect(failed).toMatchObject({ type: EventTypes.decisionAnnouncementFailed, correlationid: event.correlationid });
    const data = DecisionAnnouncementFailed.parse(failed!.data);
    expect(data.causationId).toBe(event.id);
    expect(data.reason).toContain(event.data.employee.email);
    expect(data.reason).toMatch(/451/);
    expect(refusedAttempts.get(event.data.employee.email)).toBe(3);
    // The manager was told; the announcement as a whole failed, once.
    expect(mailTo(event.data.manager!.email)).toHaveLength(1);
    await quiet(bus, svc, { reactions: [ANNOUNCE_DECISION_SUBSCRIBER], listeners: [outcomes.subscription.name] });
    expect(outcomes.about(event.data.resignationId)).toHaveLength(1);
  });
});

async function waitForCount(subject: string, n: number): Promise<CloudEvent[]> {
  const deadline = Date.now() + 20_000;
  while (outcomes.about(subject).length < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} outcomes about ${subject}`);
    await sleep(50);
  }
  return outcomes.about(subject);
}
