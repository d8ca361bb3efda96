import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventSources, EventTypes, FollowUpSent, FollowUpSkipped, type CloudEvent } from '@ems/contracts/events';
import type { Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import { adjustableClock, type Poller } from '@ems/platform';
import { FOLLOW_UP_SUBSCRIBER, type FollowUpPolicy, type HrService } from '../src/index.ts';
import { call, decisionEvent, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy: FollowUpPolicy = { scheduleWithinMs: 1 * HOUR, heldWithinMs: 1 * HOUR, decideWithinMs: 48 * HOUR, escalateAfterMs: 2 * HOUR };
/**
 * The barrier for "nothing (more) is sent": the follow-up timer runs a round now and resolves once the follow-ups
 * due by the clock have been taken on (sent, or failed and leased) — an email the code wrongly sends is in the
 * stub by then, so each such assertion can fail. (The harness types another() instance's service as a plain module.)
 */
const followUpTimer = (instance: { service: object }): Poller => {
  const timer = (instance.service as HrService).followUpTimer;
  if (!timer) throw new Error('HR runs no follow-up timer (not in choreography)');
  return timer;
};
const settled = () => followUpTimer(h).drained();

const clock = adjustableClock(new Date('2026-03-02T10:00:00Z'));
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;
let followUpSub: Subscription;

// HR in choreography with its follow-up timer running (poll every 200 ms) on a clock the tests move.
// Each test starts on a Monday of its own and closes its cases, so no case of one test fires in another.
beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({
    label: 'hrfollowups',
    clock,
    notificationUrl: stub.url,
    reactToEvents: true,
    bus: async (pool) => (bus = await createRecordingBus(pool)),
    followUps: { policy, intervalMs: 200, caseUrl: (id) => `https://ems.example/resignations/${id}` },
    relayIntervalMs: 200,
    startRelay: true,
  });
  followUpSub = h.service.subscriptions!.find((s) => s.name === FOLLOW_UP_SUBSCRIBER)!;
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});
beforeEach(() => {
  bus.stopFailing();
  stub.failWith = undefined;
});

const partner = (id: string) => h.org.hrPartners.find((p) => p.id === id)!;

/** A resignation submitted now, as HR's follow-up subscriber hears it (HR's booking subscriber does not: no interview). */
async function submit(partnerId = 'hrp-berlin') {
  const employee = h.employeeOf(partnerId);
  const resignationId = randomUUID();
  const event = resignationSubmittedEvent({ resignationId, correlationId: `corr-${resignationId}`, employee, hrPartnerId: partnerId, lastWorkingDay: '2026-06-30', submittedAt: clock.now() });
  await deliver(event);
  return event;
}
type Submitted = Awaited<ReturnType<typeof submit>>;
const deliver = (event: CloudEvent) => followUpSub.handle(event, { attempt: 1, lastAttempt: false });
const close = (s: Submitted, type: Parameters<typeof decisionEvent>[0] = EventTypes.resignationWithdrawn) => deliver(decisionEvent(type, s, clock.now()));

const followUpEmails = (s: Submitted) => stub.received.filter((r) => r.request.resignationId === s.data.resignationId && r.request.template === 'exit-follow-up');
const sentEvents = async (s: Submitted) => (await bus.published(EventTypes.followUpSent)).filter((e) => e.subject === s.data.resignationId);
const purposes = (s: Submitted) => followUpEmails(s).map((r) => r.request.purpose);
const timerOf = async (s: Submitted) =>
  (await h.pool.query<{ follow_up_at: Date | null }>('SELECT follow_up_at FROM hr.exit_cases WHERE resignation_id = $1', [s.data.resignationId])).rows[0]?.follow_up_at ?? null;
const recorded = async (s: Submitted) =>
  (await h.pool.query<{ key: string; recipient: string | null; skipped: string | null }>(
    `SELECT milestone || '.' || level AS key, recipient, skipped FROM hr.follow_ups WHERE resignation_id = $1 ORDER BY due_at, level DESC`,
    [s.data.resignationId],
  )).rows;
const emailsCount = (s: Submitted, n: number) => waitFor(() => (followUpEmails(s).length >= n ? followUpEmails(s) : undefined), `${n} follow-up email(s)`);
const at = (s: Submitted, plusMs: number) => new Date(Date.parse(s.data.submittedAt) + plusMs);

describe('reminders and escalations of an exit process nobody moves forward', () => {
  it('when the interview is not scheduled in time, then the HR partner is reminded once at the deadline, the HR lead is told once later, and nothing comes after the withdrawal', async () => {
    clock.set(new Date('2026-03-02T10:00:00Z'));
    const s = await submit('hrp-berlin');
    expect(await timerOf(s)).toEqual(at(s, 1 * HOUR));

    clock.advance(59 * MIN);
    await settled();
    expect(followUpEmails(s)).toEqual([]);

    clock.advance(2 * MIN);
    const [reminder] = await emailsCount(s, 1);
    const helga = partner('hrp-berlin');
    expect(reminder!.idempotencyKey).toBe(`${s.data.resignationId}:follow-up:interview_scheduled.reminder`);
    expect(reminder!.request).toEqual({
      resignationId: s.data.resignationId,
      purpose: 'follow-up:interview_scheduled.reminder',
      to: { email: helga.email, name: helga.name },
      template: 'exit-follow-up',
      data: {
        recipientName: helga.name,
        level: 'reminder',
        milestone: 'interview_scheduled',
        employeeName: s.data.employee.name,
        hrPartnerName: helga.name,
        dueAt: at(s, 1 * HOUR).toISOString(),
        caseUrl: `https://ems.example/resignations/${s.data.resignationId}`,
      },
      attachments: [],
    });
    const [sent] = await waitFor(async () => ((await sentEvents(s)).length ? sentEvents(s) : undefined), 'follow-up-sent');
    expect(sent).toMatchObject({ source: EventSources.hr, subject: s.data.resignationId, correlationid: s.correlationid });
    expect(sent!.traceparent.split('-')[1]).toBe(s.traceparent.split('-')[1]);
    expect(FollowUpSent.parse(sent!.data)).toEqual({
      resignationId: s.data.resignationId,
      milestone: 'interview_scheduled',
      level: 'reminder',
      dueAt: at(s, 1 * HOUR).toISOString(),
      to: helga.email,
      emailId: reminder!.emailId,
    });

    await settled();
    expect(purposes(s)).toEqual(['follow-up:interview_scheduled.reminder']);
    expect(await timerOf(s)).toEqual(at(s, 3 * HOUR));

    clock.advance(2 * HOUR);
    const [, escalation] = await emailsCount(s, 2);
    expect(escalation!.request).toMatchObject({
      purpose: 'follow-up:interview_scheduled.escalation',
      to: { email: h.org.hrLead.email, name: h.org.hrLead.name },
      data: { recipientName: h.org.hrLead.name, level: 'escalation', milestone: 'interview_scheduled', hrPartnerName: helga.name, dueAt: at(s, 3 * HOUR).toISOString() },
    });
    await waitFor(async () => ((await sentEvents(s)).length === 2 ? true : undefined), 'the second follow-up-sent');

    await close(s);
    expect(await timerOf(s)).toBeNull();
    clock.advance(3 * 24 * HOUR); // past the decision deadline and its escalation
    await settled();
    expect(purposes(s)).toEqual(['follow-up:interview_scheduled.reminder', 'follow-up:interview_scheduled.escalation']);
    expect((await sentEvents(s)).map((e) => FollowUpSent.parse(e.data).level)).toEqual(['reminder', 'escalation']);
  });

  it('when the interview is booked, then the timer waits for it to be held; once held, no reminder about it comes, and the decision deadline still does', async () => {
    clock.set(new Date('2026-03-09T10:00:00Z'));
    const s = await submit('hrp-berlin');
    // Booked over HTTP as the orchestrator books it (EMS's service token), for the case EMS knows.
    h.cases.add(s.data.resignationId, s.data.employee.id);
    const booked = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId: s.data.resignationId, employeeId: s.data.employee.id, lastWorkingDay: s.data.lastWorkingDay }, await h.asEms());
    expect(booked.status).toBe(201);
    const end = Date.parse(booked.body.end);
    expect(await timerOf(s)).toEqual(new Date(end + 1 * HOUR));

    // Past the scheduling deadline: it was met, so nothing about it.
    clock.set(new Date(end + 1 * HOUR - MIN));
    await settled();
    expect(followUpEmails(s)).toEqual([]);

    clock.set(new Date(end + 1 * HOUR + MIN));
    await emailsCount(s, 1);
    expect(purposes(s)).toEqual(['follow-up:interview_held.reminder']);

    expect((await call(h.base, 'POST', hr.HrPaths.held(booked.body.id), { notes: 'Done.' }, await h.asPartnerOf(s.data.employee.id))).status).toBe(200);
    expect(await timerOf(s)).toEqual(at(s, 48 * HOUR));
    clock.set(new Date(end + 4 * HOUR)); // the held escalation would have been due
    await settled();
    expect(purposes(s)).toEqual(['follow-up:interview_held.reminder']);

    clock.set(new Date(at(s, 48 * HOUR).getTime() + MIN));
    await emailsCount(s, 2);
    expect(purposes(s)).toEqual(['follow-up:interview_held.reminder', 'follow-up:decision.reminder']);

    await close(s, EventTypes.exitConfirmed);
    clock.advance(3 * HOUR);
    await settled();
    expect(purposes(s)).toEqual(['follow-up:interview_held.reminder', 'follow-up:decision.reminder']);
  });

  it('when the decision was heard before the submission (queues race), then the case never gets a follow-up', async () => {
    clock.set(new Date('2026-03-16T10:00:00Z'));
    const employee = h.employeeOf('hrp-berlin');
    const resignationId = randomUUID();
    const event = resignationSubmittedEvent({ resignationId, employee, hrPartnerId: 'hrp-berlin', lastWorkingDay: '2026-06-30', submittedAt: clock.now() });

    await deliver(decisionEvent(EventTypes.resignationRetained, event, clock.now()));
    await deliver(event);

    expect(await timerOf(event)).toBeNull();
    clock.advance(5 * 24 * HOUR);
    await settled();
    expect(followUpEmails(event)).toEqual([]);
  });

  it('when the partner has no HR lead, then the reminder goes to the partner and the escalation is recorded as skipped: no email, announced as follow-up-skipped with why', async () => {
    clock.set(new Date('2026-03-23T10:00:00Z'));
    await h.pool.query(`UPDATE hr.hr_partners SET lead_id = NULL WHERE id = 'hrp-singapore'`);
    try {
      const s = await submit('hrp-singapore');
      clock.advance(1 * HOUR + MIN);
      await emailsCount(s, 1);
      clock.advance(2 * HOUR);
      await waitFor(async () => ((await recorded(s)).length === 2 ? true : undefined), 'the escalation recorded');

      expect(await recorded(s)).toEqual([
        { key: 'interview_scheduled.reminder', recipient: partner('hrp-singapore').email, skipped: null },
        { key: 'interview_scheduled.escalation', recipient: null, skipped: 'HR partner hrp-singapore has no HR lead to escalate to' },
      ]);
      await settled();
      expect(purposes(s)).toEqual(['follow-up:interview_scheduled.reminder']);
      expect((await sentEvents(s)).map((e) => FollowUpSent.parse(e.data).level)).toEqual(['reminder']);
      // Announced once, so the case's timeline can show it (EMS records it in both modes).
      const skipped = (await bus.published(EventTypes.followUpSkipped)).filter((e) => e.subject === s.data.resignationId);
      expect(skipped.map((e) => ({ source: e.source, correlationid: e.correlationid, data: FollowUpSkipped.parse(e.data) }))).toEqual([
        {
          source: EventSources.hr,
          correlationid: s.correlationid,
          data: { resignationId: s.data.resignationId, milestone: 'interview_scheduled', level: 'escalation', dueAt: at(s, 3 * HOUR).toISOString(), reason: 'HR partner hrp-singapore has no HR lead to escalate to' },
        },
      ]);
      await close(s);
    } finally {
      await h.pool.query(`UPDATE hr.hr_partners SET lead_id = 'hr-lead' WHERE id = 'hrp-singapore'`);
    }
  });
});

describe('the follow-up timer under failures, replicas and restarts', () => {
  it('when two HR instances poll the same database, then each follow-up is sent once and announced once', async () => {
    clock.set(new Date('2026-03-30T10:00:00Z'));
    const second = await h.another();
    try {
      const cases = [await submit('hrp-berlin'), await submit('hrp-newyork'), await submit('hrp-singapore')];
      clock.advance(1 * HOUR + MIN);
      for (const s of cases) await emailsCount(s, 1);
      // Both timers: a second attempt by either would be in the stub once its round has ended.
      await Promise.all([settled(), followUpTimer(second).drained()]);

      for (const s of cases) {
        expect(followUpEmails(s)).toHaveLength(1); // not even a deduplicated second attempt
        expect(await sentEvents(s)).toHaveLength(1);
        await close(s);
      }
    } finally {
      await second.stop();
    }
  });

  it('when the email went out but recording it failed (a crash in between), then it is sent again under the same key, Notification answers with the same email, and it is recorded and announced once', async () => {
    clock.set(new Date('2026-04-06T10:00:00Z'));
    const s = await submit('hrp-berlin');
    bus.failPublish({ type: EventTypes.followUpSent, times: 1 });

    clock.advance(1 * HOUR + MIN);
    await emailsCount(s, 2);
    await waitFor(async () => ((await sentEvents(s)).length === 1 ? true : undefined), 'follow-up-sent after the retry');
    await settled();

    const attempts = followUpEmails(s);
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts.map((a) => a.idempotencyKey))).toEqual(new Set([`${s.data.resignationId}:follow-up:interview_scheduled.reminder`]));
    expect(stub.emails().filter((e) => e.resignationId === s.data.resignationId)).toHaveLength(1);
    expect(attempts[1]!.emailId).toBe(attempts[0]!.emailId);
    const events = await sentEvents(s);
    expect(events.map((e) => FollowUpSent.parse(e.data).emailId)).toEqual([attempts[0]!.emailId]);
    expect(await recorded(s)).toHaveLength(1);
    await close(s);
  });

  it('when Notification is down at the deadline, then the timer retries and sends the follow-up once it is back', async () => {
    clock.set(new Date('2026-04-13T10:00:00Z'));
    const s = await submit('hrp-berlin');
    stub.failWith = 503;

    clock.advance(1 * HOUR + MIN);
    await waitFor(
      async () => ((await h.pool.query<{ failures: number }>('SELECT failures FROM hr.exit_cases WHERE resignation_id = $1', [s.data.resignationId])).rows[0]!.failures >= 2 ? true : undefined),
      'two failed attempts',
    );
    expect(await recorded(s)).toEqual([]);
    expect(await sentEvents(s)).toEqual([]);

    stub.failWith = undefined;
    await emailsCount(s, 1);
    await waitFor(async () => ((await sentEvents(s)).length === 1 ? true : undefined), 'follow-up-sent');
    expect(purposes(s)).toEqual(['follow-up:interview_scheduled.reminder']);
    await close(s);
  });

  it('when HR is stopped with a follow-up pending and another instance starts on the same database, then the new one fires it', async () => {
    clock.set(new Date('2026-04-20T10:00:00Z'));
    const s = await submit('hrp-newyork');
    await h.service.stop!();
    let replacement: Awaited<ReturnType<HrUnderTest['another']>> | undefined;
    try {
      clock.advance(1 * HOUR + MIN);
      await expect(settled()).rejects.toThrow(/not running/); // nobody is polling
      expect(followUpEmails(s)).toEqual([]);

      replacement = await h.another();
      await emailsCount(s, 1);
      await waitFor(async () => ((await sentEvents(s)).length === 1 ? true : undefined), 'follow-up-sent');
      expect(followUpEmails(s)[0]!.request.to.email).toBe(partner('hrp-newyork').email);
      await close(s);
    } finally {
      await replacement?.stop();
      await h.service.start!();
    }
  });
});
