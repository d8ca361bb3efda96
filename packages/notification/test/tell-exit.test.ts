import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@ems/platform';
import { EventSources, EventTypes, type EventData, type ExitPerson } from '@ems/contracts/events';
import { notification as api } from '@ems/contracts';
import { createEvent, type CloudEvent, type Subscription } from '@ems/eventbus';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { TELL_EXIT_SUBSCRIBER } from '../src/tell-exit/tell-exit-when-access-suspended.ts';
import { asEms, asHr, bootService, http, openDatabase, waitFor, type RunningService } from './harness.ts';

/**
 * Involuntary-exit notices on real PostgreSQL and a real SMTP server on loopback. The choreography
 * handler is driven by hand (a recording bus: the test delivers each event itself), so "nothing is
 * emailed before the go-ahead" is checked when the handler of the first event has returned — its
 * transaction committed, whatever it would have queued is there — not after a sleep.
 */

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let bus: RecordingBus;
let smtp: CaptureSmtpServer;
let svc: RunningService;
let subscriber: Subscription;

const caseUrl = (id: string) => `https://ems.example/cases/${id}`;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  bus = await createRecordingBus(pool);
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url, bus, reactToEvents: true, caseUrl, dispatchIntervalMs: 50 });
  const found = svc.service.subscriptions?.find((s) => s.name === TELL_EXIT_SUBSCRIBER);
  if (!found) throw new Error('no tell-exit subscriber');
  subscriber = found;
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

type Started = EventData<typeof EventTypes.involuntaryExitsStarted>;
type Suspended = EventData<typeof EventTypes.exitAccessSuspended>;

let n = 0;
/** A person with a manager (unless `manager: false`), in Berlin, revoked at 22:59:59 UTC on 2 March 2026. */
function person(manager = true): ExitPerson {
  const i = ++n;
  return {
    resignationId: randomUUID(),
    employeeId: `E-X${i}`,
    employeeName: `Erin Exit${i}`,
    employeeEmail: `erin.exit${i}@acme.example`,
    managerId: manager ? `M-X${i}` : null,
    managerName: manager ? `Mona Manager${i}` : null,
    managerEmail: manager ? `mona.manager${i}@acme.example` : null,
    timezone: 'Europe/Berlin',
    lastWorkingDay: '2026-03-02',
    revokeAt: '2026-03-02T22:59:59.000Z',
  };
}

function started(exits: ExitPerson[], batchId = randomUUID()): CloudEvent<Started> {
  return createEvent({
    type: EventTypes.involuntaryExitsStarted,
    source: EventSources.ems,
    subject: batchId,
    correlationId: batchId,
    data: { batchId, chunk: 1, chunks: 1, revokeAt: null, reason: 'redundancy', exits },
  });
}

/** Access's answer: `ok` suspended, `notOk` failed. */
function suspended(of: CloudEvent<Started>, ok: ExitPerson[], notOk: ExitPerson[] = []): CloudEvent<Suspended> {
  const { batchId, chunk } = of.data;
  return createEvent({
    type: EventTypes.exitAccessSuspended,
    source: EventSources.access,
    subject: batchId,
    correlationId: batchId,
    data: {
      batchId,
      chunk,
      suspended: ok.map((p) => ({ resignationId: p.resignationId, employeeId: p.employeeId, holdId: randomUUID(), grants: 3, revocationId: randomUUID(), revokeAt: p.revokeAt })),
      failed: notOk.map((p) => ({ resignationId: p.resignationId, employeeId: p.employeeId, reason: 'Employee has no identity in the access directory' })),
    },
  });
}

const deliver = (event: CloudEvent) => subscriber.handle(event, { attempt: 1, lastAttempt: false });

async function emailsOf(people: ExitPerson[]): Promise<Array<{ resignation_id: string; purpose: string; recipient: string; subject: string; text: string }>> {
  const { rows } = await pool.query<{ resignation_id: string; purpose: string; recipient: string; subject: string; text: string }>(
    'SELECT resignation_id, purpose, recipient, subject, text FROM notification.emails WHERE resignation_id = ANY($1::uuid[]) ORDER BY recipient',
    [people.map((p) => p.resignationId)],
  );
  return rows;
}

async function noticesSent(batchId: string): Promise<EventData<typeof EventTypes.exitNoticesSent>[]> {
  return (await bus.published(EventTypes.exitNoticesSent)).map((e) => e.data as EventData<typeof EventTypes.exitNoticesSent>).filter((d) => d.batchId === batchId);
}

describe('telling the people of an involuntary exit (choreography)', () => {
  it('when involuntaryExitsStarted comes first, then nothing is queued until exitAccessSuspended; then each suspended employee and their manager are told, a person Access could not suspend is not, and exitNoticesSent is published once', async () => {
    const withManager = person();
    const alone = person(false);
    const notSuspended = person();
    const start = started([withManager, alone, notSuspended]);

    await deliver(start);
    // The handler returned: its transaction committed. The people alone queue nothing and publish nothing.
    expect(await emailsOf([withManager, alone, notSuspended])).toEqual([]);
    expect(await noticesSent(start.data.batchId)).toEqual([]);

    const goAhead = suspended(start, [withManager, alone], [notSuspended]);
    await deliver(goAhead);

    const queued = await emailsOf([withManager, alone, notSuspended]);
    expect(queued.map((e) => [e.resignation_id, e.purpose, e.recipient])).toEqual(
      [
        [alone.resignationId, 'exit-notice:employee', alone.employeeEmail],
        [withManager.resignationId, 'exit-notice:employee', withManager.employeeEmail],
        [withManager.resignationId, 'exit-notice:manager', withManager.managerEmail],
      ].sort((a, b) => (a[2]! < b[2]! ? -1 : 1)),
    );
    const [outcome, ...more] = await noticesSent(start.data.batchId);
    expect(more).toEqual([]);
    expect(outcome).toEqual({
      batchId: start.data.batchId,
      chunk: 1,
      sent: [
        { resignationId: withManager.resignationId, managerTold: true, employeeTold: true },
        { resignationId: alone.resignationId, managerTold: false, employeeTold: true },
      ],
      failed: [{ resignationId: notSuspended.resignationId, reason: 'not told: access was not suspended (Employee has no identity in the access directory)' }],
    });

    // Redelivered (either event), nothing more is queued or published.
    await deliver(start);
    await deliver(goAhead);
    // …and the same answer again under another event id (Access's id is per chunk; a bus may not dedupe).
    const again = createEvent({ type: goAhead.type, source: goAhead.source, subject: goAhead.subject, correlationId: goAhead.correlationid, data: goAhead.data });
    await deliver(again);
    expect(await emailsOf([withManager, alone, notSuspended])).toHaveLength(3);
    expect(await noticesSent(start.data.batchId)).toHaveLength(1);

    // Delivered over SMTP by the dispatcher.
    const mail = await waitFor('the three notices at the SMTP server', async () => {
      const got = smtp.messages().filter((m) => [withManager.employeeEmail, withManager.managerEmail, alone.employeeEmail].includes(m.to[0] ?? ''));
      return got.length === 3 ? got : undefined;
    });
    const to = (address: string | null) => mail.find((m) => m.to[0] === address)!;

    const employee = to(withManager.employeeEmail);
    expect(employee.subject).toBe('Your access has been suspended');
    expect(employee.text).toContain(`Dear ${withManager.employeeName},`);
    expect(employee.text).toContain('Your employment is ending: an involuntary exit (redundancy). Your last working day is Monday, 2 March 2026.');
    expect(employee.text).toContain('Your access to every company system has been suspended.');
    // The instant in the employee's zone (Berlin: UTC+1 in March), UTC beside it.
    expect(employee.text).toContain('It will be revoked on Monday, 2 March 2026, 23:59 (Europe/Berlin time; Monday, 2 March 2026, 22:59 UTC).');
    expect(employee.text).toContain(`please contact your manager, ${withManager.managerName}, or HR.`);
    expect(employee.text).toContain(`Case details: ${caseUrl(withManager.resignationId)}`);

    const manager = to(withManager.managerEmail);
    expect(manager.subject).toBe(`${withManager.employeeName}'s access has been suspended`);
    expect(manager.text).toContain(`Dear ${withManager.managerName},`);
    expect(manager.text).toContain(`${withManager.employeeName}, who reports to you, is leaving: an involuntary exit (redundancy).`);
    expect(manager.text).toContain(`${withManager.employeeName}'s access to every company system has been suspended.`);
    expect(manager.text).toContain('It will be revoked on Monday, 2 March 2026, 23:59 (Europe/Berlin time; Monday, 2 March 2026, 22:59 UTC).');
    expect(manager.text).toContain('direct any questions about this exit to HR');

    // No manager: the employee is pointed to HR alone.
    expect(to(alone.employeeEmail).text).toContain('If you have questions, please contact HR.');
  });

  it('when exitAccessSuspended comes first, then nothing is queued until involuntaryExitsStarted names the people; then they are told', async () => {
    const p = person();
    const start = started([p]);
    await deliver(suspended(start, [p]));
    expect(await emailsOf([p])).toEqual([]);
    expect(await noticesSent(start.data.batchId)).toEqual([]);

    await deliver(start);
    expect((await emailsOf([p])).map((e) => e.purpose)).toEqual(['exit-notice:employee', 'exit-notice:manager']);
    expect(await noticesSent(start.data.batchId)).toEqual([{ batchId: start.data.batchId, chunk: 1, sent: [{ resignationId: p.resignationId, managerTold: true, employeeTold: true }], failed: [] }]);
  });

  it('when both events of a chunk are handled at the same moment, then the notices are queued once and exitNoticesSent is published once', async () => {
    const people = [person(), person(false), person()];
    const start = started(people);
    await Promise.all([deliver(start), deliver(suspended(start, people))]);
    expect(await emailsOf(people)).toHaveLength(5);
    expect(await noticesSent(start.data.batchId)).toHaveLength(1);
  });

  it('when a whole chunk of 500 is told, then 1,000 notices are queued in one transaction', async () => {
    const people = Array.from({ length: 500 }, () => person());
    const start = started(people);
    await deliver(start);
    const t0 = performance.now();
    await deliver(suspended(start, people));
    const ms = performance.now() - t0;
    expect(await emailsOf(people)).toHaveLength(1000);
    const [outcome] = await noticesSent(start.data.batchId);
    expect(outcome!.sent).toHaveLength(500);
    if (process.env.EMS_MEASURE_EXITS === '1') console.log(`tell-exit: a chunk of 500 people (1,000 notices rendered and queued): ${ms.toFixed(0)} ms`);
  });
});

describe('telling the people of an involuntary exit (the orchestrator\'s command)', () => {
  it('when EMS sends the chunk, then the notices are queued and the outcome answered; a repeat answers the same and queues nothing; another service is refused', async () => {
    const people = [person(), person(false)];
    const body: api.SendExitNoticesRequest = { batchId: randomUUID(), chunk: 3, reason: 'misconduct', exits: people };
    const url = `${svc.baseUrl}${api.NotificationPaths.exitNotices}`;

    const first = await http<api.SendExitNoticesAnswer>(url, { body, headers: await asEms(svc) });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      batchId: body.batchId,
      chunk: 3,
      sent: [
        { resignationId: people[0]!.resignationId, managerTold: true, employeeTold: true },
        { resignationId: people[1]!.resignationId, managerTold: false, employeeTold: true },
      ],
      failed: [],
    });
    expect(await emailsOf(people)).toHaveLength(3);
    // The category only, in both notices.
    for (const e of await emailsOf(people)) expect(e.text).toContain('an involuntary exit (misconduct)');

    const repeat = await http<api.SendExitNoticesAnswer>(url, { body, headers: await asEms(svc) });
    expect(repeat).toMatchObject({ status: 200, body: first.body });
    expect(await emailsOf(people)).toHaveLength(3);
    expect(await noticesSent(body.batchId)).toHaveLength(1);

    const hr = await http(url, { body: { ...body, batchId: randomUUID() }, headers: await asHr(svc) });
    expect(hr.status).toBe(403);
  });

  it('when a person\'s time zone is unknown, then that person is listed as failed and the others are told', async () => {
    const good = person();
    const bad = { ...person(), timezone: 'Mars/Olympus_Mons' };
    const body: api.SendExitNoticesRequest = { batchId: randomUUID(), chunk: 1, reason: 'other', exits: [good, bad] };
    const answer = await http<api.SendExitNoticesAnswer>(`${svc.baseUrl}${api.NotificationPaths.exitNotices}`, { body, headers: await asEms(svc) });
    expect(answer.status).toBe(200);
    expect(answer.body.sent.map((s) => s.resignationId)).toEqual([good.resignationId]);
    expect(answer.body.failed).toHaveLength(1);
    expect(answer.body.failed[0]!.reason).toMatch(/timezone/);
    expect(await emailsOf([bad])).toEqual([]);
  });
});
