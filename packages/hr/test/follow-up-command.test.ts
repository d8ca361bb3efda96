/**
 * The orchestrator's follow-up command (POST /api/hr/follow-ups): HR in orchestration — no follow-up timer, no
 * resignation events — runs the same use case as its timer in choreography. Real PostgreSQL, real HTTP, real
 * tokens; Notification is the harness's stub (what HR sends is what the stub received).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventTypes, FollowUpSent, FollowUpSkipped } from '@ems/contracts/events';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { adjustableClock } from '@ems/platform';
import type { FollowUpPolicy } from '../src/index.ts';
import { call, startHr, startNotificationStub, type HrUnderTest, type NotificationStub } from './harness.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy: FollowUpPolicy = { scheduleWithinMs: 1 * HOUR, heldWithinMs: 1 * HOUR, decideWithinMs: 48 * HOUR, escalateAfterMs: 2 * HOUR };
const clock = adjustableClock(new Date('2026-03-02T10:00:00Z'));
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;

beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({
    label: 'hrfollowupcmd',
    clock,
    notificationUrl: stub.url,
    bus: async (pool) => (bus = await createRecordingBus(pool)),
    followUps: { policy, caseUrl: (id) => `https://ems.example/resignations/${id}` },
  });
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});

const partner = (id: string) => h.org.hrPartners.find((p) => p.id === id)!;

/** A case as the orchestrator knows it, submitted `agoMs` before the clock. */
function aCase(partnerId: string, agoMs: number) {
  const employee = h.employeeOf(partnerId);
  return { resignationId: randomUUID(), employee: { id: employee.id, name: employee.name }, hrPartnerId: partnerId, submittedAt: new Date(clock.now().getTime() - agoMs).toISOString() };
}
type Case = ReturnType<typeof aCase>;
const due = (c: Case, plusMs: number) => new Date(Date.parse(c.submittedAt) + plusMs).toISOString();

async function followUp(c: Case, f: Pick<hr.FollowUpRequest, 'milestone' | 'level' | 'dueAt'>, key = randomUUID()) {
  return call<hr.FollowUpAnswer>(h.base, 'POST', hr.HrPaths.followUps, { ...c, ...f }, { ...(await h.asEms()), 'idempotency-key': key, 'x-correlation-id': `corr-${c.resignationId}` });
}
const emailsOf = (c: Case) => stub.received.filter((r) => r.request.resignationId === c.resignationId);
const recorded = async (c: Case) =>
  (await h.pool.query<{ key: string; recipient: string | null; skipped: string | null }>(`SELECT milestone || '.' || level AS key, recipient, skipped FROM hr.follow_ups WHERE resignation_id = $1 ORDER BY due_at, level DESC`, [c.resignationId])).rows;

describe("the orchestrator's follow-up command: HR decides, sends once and records", () => {
  it('when a reminder is due, then HR emails the HR partner under its key, records and announces it; a repeat under another key answers the same email and sends nothing', async () => {
    const c = aCase('hrp-berlin', 61 * MIN);
    const asked = { milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR) } as const;
    const first = await followUp(c, asked);
    expect(first.status).toBe(200);
    const helga = partner('hrp-berlin');
    const [email] = emailsOf(c);
    expect(first.body).toEqual({ outcome: 'sent', resignationId: c.resignationId, milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR), interview: null, to: helga.email, emailId: email!.emailId });
    // The same email HR's timer sends in choreography (packages/hr/test/follow-ups.test.ts).
    expect(email!.idempotencyKey).toBe(`${c.resignationId}:follow-up:interview_scheduled.reminder`);
    expect(email!.request).toMatchObject({
      purpose: 'follow-up:interview_scheduled.reminder',
      to: { email: helga.email, name: helga.name },
      template: 'exit-follow-up',
      data: { recipientName: helga.name, employeeName: c.employee.name, hrPartnerName: helga.name, dueAt: due(c, 1 * HOUR), caseUrl: `https://ems.example/resignations/${c.resignationId}` },
    });
    const events = (await bus.published(EventTypes.followUpSent)).filter((e) => e.subject === c.resignationId);
    expect(events.map((e) => FollowUpSent.parse(e.data).emailId)).toEqual([email!.emailId]);
    expect(events[0]!.correlationid).toBe(`corr-${c.resignationId}`);

    const repeat = await followUp(c, asked);
    expect(repeat.body).toEqual(first.body);
    expect(emailsOf(c)).toHaveLength(1); // not even a deduplicated second attempt
    expect(await recorded(c)).toEqual([{ key: 'interview_scheduled.reminder', recipient: helga.email, skipped: null }]);
    // Orchestration: HR runs no timer for the case; the workflow keeps the timing.
    expect((await h.pool.query('SELECT follow_up_at FROM hr.exit_cases WHERE resignation_id = $1', [c.resignationId])).rows).toEqual([{ follow_up_at: null }]);
  });

  it('when the interview was booked, then the scheduling reminder is not due (milestone met) with the interview in the answer; a held reminder asked for on stale facts is not yet due, with the instant HR finds it due', async () => {
    const c = aCase('hrp-berlin', 61 * MIN);
    h.cases.add(c.resignationId, c.employee.id);
    const booked = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId: c.resignationId, employeeId: c.employee.id, lastWorkingDay: '2026-06-30' }, await h.asEms());
    expect(booked.status).toBe(201);
    const sentBefore = stub.received.length;

    const met = await followUp(c, { milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR) });
    expect(met.body).toEqual({ outcome: 'not due', resignationId: c.resignationId, milestone: 'interview_scheduled', level: 'reminder', reason: 'milestone met', dueAt: null, interview: { end: booked.body.end, held: false } });

    // The caller believes the interview ended an hour ago (it was moved later): HR judges with its own facts.
    const early = await followUp(c, { milestone: 'interview_held', level: 'reminder', dueAt: clock.now().toISOString() });
    expect(early.body).toMatchObject({ outcome: 'not due', reason: 'not yet due', dueAt: new Date(Date.parse(booked.body.end) + 1 * HOUR).toISOString() });
    expect(stub.received.length).toBe(sentBefore);
    expect(await recorded(c)).toEqual([]);
  });

  it('when the partner has no HR lead, then the escalation is recorded skipped and says why; once the case is closed, nothing is due (decided)', async () => {
    await h.pool.query(`UPDATE hr.hr_partners SET lead_id = NULL WHERE id = 'hrp-singapore'`);
    try {
      const c = aCase('hrp-singapore', 3 * HOUR + MIN);
      expect((await followUp(c, { milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR) })).body).toMatchObject({ outcome: 'sent' });
      const escalation = await followUp(c, { milestone: 'interview_scheduled', level: 'escalation', dueAt: due(c, 3 * HOUR) });
      expect(escalation.body).toMatchObject({ outcome: 'skipped', reason: 'HR partner hrp-singapore has no HR lead to escalate to' });
      expect(emailsOf(c).map((e) => e.request.purpose)).toEqual(['follow-up:interview_scheduled.reminder']);
      // Announced as in choreography (EMS puts it on the case's timeline from the event), once however often it is asked.
      expect((await followUp(c, { milestone: 'interview_scheduled', level: 'escalation', dueAt: due(c, 3 * HOUR) })).body).toMatchObject({ outcome: 'skipped' });
      const skipped = (await bus.published(EventTypes.followUpSkipped)).filter((e) => e.subject === c.resignationId);
      expect(skipped.map((e) => FollowUpSkipped.parse(e.data))).toEqual([
        { resignationId: c.resignationId, milestone: 'interview_scheduled', level: 'escalation', dueAt: due(c, 3 * HOUR), reason: 'HR partner hrp-singapore has no HR lead to escalate to' },
      ]);

      const closed = await call(h.base, 'POST', hr.HrPaths.caseClosures, { resignationId: c.resignationId, decision: 'withdrawn', decidedAt: clock.now().toISOString() }, { ...(await h.asEms()), 'idempotency-key': randomUUID() });
      expect(closed.status).toBe(200);
      clock.advance(48 * HOUR);
      const decided = await followUp(c, { milestone: 'decision', level: 'reminder', dueAt: due(c, 48 * HOUR) });
      expect(decided.body).toMatchObject({ outcome: 'not due', reason: 'decided', dueAt: null });
      expect(emailsOf(c)).toHaveLength(1);
    } finally {
      await h.pool.query(`UPDATE hr.hr_partners SET lead_id = 'hr-lead' WHERE id = 'hrp-singapore'`);
    }
  });

  it('when Notification is unavailable, then the command answers a retryable problem and records nothing; asked again once it is back, HR sends it once', async () => {
    const c = aCase('hrp-newyork', 61 * MIN);
    const asked = { milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR) } as const;
    stub.failWith = 503;
    try {
      const down = await followUp(c, asked);
      expect(down.status).toBe(503);
      expect(down.contentType).toContain('application/problem+json');
      expect(await recorded(c)).toEqual([]);
    } finally {
      stub.failWith = undefined;
    }
    const back = await followUp(c, asked);
    expect(back.body).toMatchObject({ outcome: 'sent', to: partner('hrp-newyork').email });
    expect(new Set(emailsOf(c).map((e) => e.emailId)).size).toBe(1);
    expect(await recorded(c)).toHaveLength(1);
  });

  it('when the request is malformed or comes without an Idempotency-Key, then it is refused with a problem and HR records nothing', async () => {
    const c = aCase('hrp-newyork', 2 * HOUR);
    const bad = await followUp(c, { milestone: 'interview_scheduled', level: 'nudge' as 'reminder', dueAt: due(c, 1 * HOUR) });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    const keyless = await call(h.base, 'POST', hr.HrPaths.followUps, { ...c, milestone: 'interview_scheduled', level: 'reminder', dueAt: due(c, 1 * HOUR) }, await h.asEms());
    expect(keyless.status).toBe(400);
    expect((await h.pool.query('SELECT 1 FROM hr.exit_cases WHERE resignation_id = $1', [c.resignationId])).rows).toEqual([]);
    expect(emailsOf(c)).toEqual([]);
  });
});
