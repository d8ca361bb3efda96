/**
 * What the HR inbox reads: exit interviews in a start window and by status (listInterviews), and the
 * reminders and escalations of the cases awaiting a decision (listFollowUps) — real EMS in both modes,
 * real PostgreSQL and SMTP, the follow-up timers running on a short policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import type { followUps, hr } from '@ems/contracts';

type InterviewList = { items: hr.Interview[] };
import { HR_LEAD, http, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const plain = (e: Employee) => e.managerId !== null && !org.employees.some((x) => x.managerId === e.id) && !admins.has(e.id);
const PARTNER = 'hrp-berlin';
const OTHER_PARTNER = 'hrp-newyork';
/** The partner whose address Notification refuses, in the skipped-reminder test. */
const THIRD_PARTNER = org.hrPartners.find((p) => p.id !== PARTNER && p.id !== OTHER_PARTNER)!.id;

describe.each(['orchestration', 'choreography'] as const)('the HR inbox (%s)', (mode) => {
  let env: AcceptanceEnv;
  let base: string;
  const as = async (person: string) => ({ authorization: `Bearer ${await tokenFor(base, person)}` });
  const mine = org.employees.filter((e) => e.hrPartnerId === PARTNER && plain(e)).slice(mode === 'orchestration' ? 0 : 2);
  const EMP = mine[0]!;
  const OTHER = org.employees.filter((e) => e.hrPartnerId === OTHER_PARTNER && plain(e))[mode === 'orchestration' ? 0 : 1]!;
  const THIRDS = org.employees.filter((e) => e.hrPartnerId === THIRD_PARTNER && plain(e))[mode === 'orchestration' ? 0 : 1]!;
  const cases: Record<string, string> = {};

  beforeAll(async () => {
    // The decision is due 3 s after the submission: its reminder goes out during the test; the escalation waits an hour.
    env = await startAcceptanceEms(mode, `inbox_${mode}`, { env: { EMS_FOLLOW_UP_DECIDE_WITHIN: '3s', EMS_FOLLOW_UP_ESCALATE_AFTER: '1h' } });
    base = env.base;
    for (const e of [EMP, OTHER]) {
      const r = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: e.id });
      expect(r.status).toBe(201);
      cases[e.id] = r.body.id;
    }
    for (const e of [EMP, OTHER]) {
      await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${cases[e.id]}`)).body.status === 'awaiting_decision' ? true : undefined), `${e.id}'s case to settle`, 60_000);
    }
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when the HR partner asks for the interviews starting in a window, then exactly those, earliest first; by status likewise', async () => {
    const all = (await http<InterviewList>(base, 'GET', `/api/interviews?hrPartnerId=${PARTNER}`, undefined, await as(PARTNER))).body.items;
    const interview = all.find((i) => i.resignationId === cases[EMP.id])!;
    expect(interview.status).toBe('scheduled');
    const start = new Date(interview.start);
    const inWindow = await http<InterviewList>(base, 'GET', `/api/interviews?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(new Date(start.getTime() + 1).toISOString())}`, undefined, await as(PARTNER));
    expect(inWindow.status).toBe(200);
    expect(inWindow.body.items.map((i) => i.id)).toEqual([interview.id]);
    const before = await http<InterviewList>(base, 'GET', `/api/interviews?to=${encodeURIComponent(start.toISOString())}&resignationId=${cases[EMP.id]}`, undefined, await as(PARTNER));
    expect(before.body.items).toEqual([]);

    const week = await http<InterviewList>(base, 'GET', `/api/interviews?from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60 * 86_400_000).toISOString())}`, undefined, await as(HR_LEAD));
    const starts = week.body.items.map((i) => i.start);
    expect(starts).toEqual([...starts].sort());
    expect(week.body.items.map((i) => i.resignationId)).toEqual(expect.arrayContaining([cases[EMP.id], cases[OTHER.id]]));

    const held = await http<InterviewList>(base, 'GET', `/api/interviews?status=held&hrPartnerId=${PARTNER}`, undefined, await as(PARTNER));
    expect(held.body.items).toEqual([]);
    const scheduled = await http<InterviewList>(base, 'GET', `/api/interviews?status=scheduled`, undefined, await as(PARTNER));
    expect(scheduled.body.items.map((i) => i.id)).toContain(interview.id);
    // The partner's rows only: the other partner's employee is not in their list.
    expect(scheduled.body.items.map((i) => i.resignationId)).not.toContain(cases[OTHER.id]);

    const bad = await http(base, 'GET', '/api/interviews?from=tomorrow', undefined, await as(PARTNER));
    expect(bad.status).toBe(400);
  });

  it('when the decision deadline passes, then the reminder is listed as sent and the escalation upcoming — to the partner of the case and the HR lead, not to another partner', async () => {
    const followUpsOf = async (person: string, query = '') => (await http<followUps.FollowUpList>(base, 'GET', `/api/follow-ups${query}`, undefined, await as(person))).body.items;
    const reminded = await waitFor(
      async () => (await followUpsOf(PARTNER)).find((c) => c.resignationId === cases[EMP.id] && c.followUps.some((f) => f.milestone === 'decision' && f.level === 'reminder' && f.state === 'sent')),
      "the decision reminder of EMP's case to be sent",
      60_000,
    );
    expect(reminded).toMatchObject({ employeeId: EMP.id, hrPartnerId: PARTNER, status: 'awaiting_decision' });
    const escalation = reminded.followUps.find((f) => f.milestone === 'decision' && f.level === 'escalation')!;
    expect(escalation).toMatchObject({ state: 'upcoming', sentAt: null });
    expect(Date.parse(escalation.dueAt)).toBeGreaterThan(Date.now());

    // Scope: the partner sees their employee's case only; the other partner the other one; the HR lead both.
    expect((await followUpsOf(PARTNER)).map((c) => c.resignationId)).not.toContain(cases[OTHER.id]);
    expect((await followUpsOf(OTHER_PARTNER)).map((c) => c.resignationId)).not.toContain(cases[EMP.id]);
    expect((await followUpsOf(HR_LEAD)).map((c) => c.resignationId)).toEqual(expect.arrayContaining([cases[EMP.id], cases[OTHER.id]]));
    expect((await followUpsOf(PARTNER, '?state=sent')).map((c) => c.resignationId)).toContain(cases[EMP.id]);

    // Others may not ask at all.
    const employee = await http(base, 'GET', '/api/follow-ups', undefined, await as(EMP.id));
    expect(employee.status).toBe(403);

    // A decision ends them: the case leaves the list.
    const decided = await http(base, 'POST', `/api/resignations/${cases[EMP.id]}/decision`, { decision: 'retained' }, await as(PARTNER));
    expect([200, 202]).toContain(decided.status);
    await waitFor(async () => ((await followUpsOf(PARTNER)).some((c) => c.resignationId === cases[EMP.id]) ? undefined : true), 'the decided case to leave the follow-ups');
  }, 90_000);

  it('when a deadline passes while mail cannot go out, then its reminder is due (nobody told yet), and sent once mail flows again', async () => {
    const followUpsOf = async (query: string) => (await http<followUps.FollowUpList>(base, 'GET', `/api/follow-ups${query}`, undefined, await as(PARTNER))).body.items;
    const reminderOf = (c: followUps.CaseFollowUps | undefined) => c?.followUps.find((f) => f.milestone === 'decision' && f.level === 'reminder');
    await env.proxy.down();
    try {
      const r = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: mine[1]!.id });
      expect(r.status).toBe(201);
      const due = await waitFor(async () => (await followUpsOf('?state=due')).find((c) => c.resignationId === r.body.id), 'the reminder to be due with Notification down', 60_000);
      expect(reminderOf(due)).toMatchObject({ state: 'due', sentAt: null });
      expect(Date.parse(reminderOf(due)!.dueAt)).toBeLessThanOrEqual(Date.now());
      await env.proxy.up();
      await waitFor(async () => (reminderOf((await followUpsOf('')).find((c) => c.resignationId === r.body.id))?.state === 'sent' ? true : undefined), 'the reminder to be sent once Notification is back', 90_000);
    } finally {
      await env.proxy.up();
    }
  }, 180_000);

  it("when HR cannot send a reminder (Notification refuses the partner's address), then it is listed as skipped, with when and HR's reason — never as due", async () => {
    const followUpsOf = async (query: string) => (await http<followUps.FollowUpList>(base, 'GET', `/api/follow-ups${query}`, undefined, await as(HR_LEAD))).body.items;
    const reminderOf = (c: followUps.CaseFollowUps | undefined) => c?.followUps.find((f) => f.milestone === 'decision' && f.level === 'reminder');
    const partner = (await env.ems.pool.query<{ email: string }>('SELECT email FROM hr.hr_partners WHERE id = $1', [THIRD_PARTNER])).rows[0]!;
    // An address Notification refuses (400: longer than 254 characters): HR records the decision reminder without an
    // email and publishes follow-up-skipped. The interview is booked all the same (its invite to the partner is
    // recorded failed, not sent; the employee's goes): the case's scheduleInterview step is done, in both modes.
    const tooLong = `p@${`${'a'.repeat(60)}.`.repeat(4)}example.com`;
    await env.ems.pool.query('UPDATE hr.hr_partners SET email = $2 WHERE id = $1', [THIRD_PARTNER, tooLong]);
    try {
      const r = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: THIRDS.id });
      expect(r.status).toBe(201);
      const kase = await waitFor(async () => (await followUpsOf('?state=skipped')).find((c) => c.resignationId === r.body.id), 'the reminder to be listed as skipped', 60_000);
      const reminder = reminderOf(kase)!;
      expect(reminder).toMatchObject({ state: 'skipped', sentAt: null });
      expect(reminder.reason).toMatch(/^refused by Notification: .*answered 400/);
      expect(Date.parse(reminder.skippedAt!)).toBeGreaterThanOrEqual(Date.parse(reminder.dueAt));
      // HR's reason is the one the case's timeline gives, without the timeline's own words around it.
      const timeline = (await http<{ items: Array<{ type: string; summary: string; at: string }> }>(base, 'GET', `/api/resignations/${r.body.id}/timeline`, undefined, await as(HR_LEAD))).body.items;
      const entry = timeline.find((t) => t.type === 'com.ems.hr.follow-up-skipped.v1')!;
      expect(entry.summary).toBe(`Reminder not sent (no decision): ${reminder.reason}`);
      expect(reminder.skippedAt).toBe(entry.at);
      const steps = await waitFor(async () => {
        const c = await http<{ steps: Record<string, { status: string }> }>(base, 'GET', `/api/resignations/${r.body.id}`, undefined, await as(HR_LEAD));
        return c.body.steps.scheduleInterview?.status === 'pending' ? undefined : c.body.steps;
      }, 'the interview step to settle', 30_000);
      expect(steps.scheduleInterview).toMatchObject({ status: 'done' });
      // The case says so: the timeline's booking entry names the partner's invite as not sent, with HR's reason
      // (what its outbox recorded after 'not sent: '), in the same words in both modes.
      const refused = (await env.ems.pool.query<{ last_error: string }>("SELECT last_error FROM hr.outbox WHERE recipient = $1 AND purpose LIKE 'interview-invite:%'", [tooLong])).rows;
      expect(refused).toHaveLength(1);
      const booked = (await http<{ items: Array<{ type: string; summary: string }> }>(base, 'GET', `/api/resignations/${r.body.id}/timeline`, undefined, await as(HR_LEAD))).body.items.find(
        (t) => t.type === 'com.ems.hr.exit-interview-scheduled.v1',
      )!;
      expect(booked.summary).toMatch(/^Exit interview booked for .+ \(.+\); the HR partner's invite was not sent: /);
      expect(booked.summary.endsWith(`; the HR partner's invite was not sent: ${refused[0]!.last_error.replace(/^not sent: /, '')}`)).toBe(true);
      expect(booked.summary).toContain(`Notification refuses this email to ${tooLong}`);
      // Not due (nothing more will be sent for it): the due filter leaves the case out; the escalation is still to come.
      expect((await followUpsOf('?state=due')).map((c) => c.resignationId)).not.toContain(r.body.id);
      expect(kase.followUps.find((f) => f.milestone === 'decision' && f.level === 'escalation')).toMatchObject({ state: 'upcoming', sentAt: null, skippedAt: null, reason: null });
      // The HR partner of the case sees it the same way.
      const own = (await http<followUps.FollowUpList>(base, 'GET', '/api/follow-ups', undefined, await as(THIRD_PARTNER))).body.items;
      expect(reminderOf(own.find((c) => c.resignationId === r.body.id))).toEqual(reminder);
    } finally {
      await env.ems.pool.query('UPDATE hr.hr_partners SET email = $2 WHERE id = $1', [THIRD_PARTNER, partner.email]);
    }
  }, 90_000);

});
