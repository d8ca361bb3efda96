/**
 * The decision lifecycle, end to end, written once and run in each coordination mode: the interview is
 * held, HR decides (retained / exit confirmed, a moved last day), the employee withdraws; access is
 * restored or revoked on time; deadlines earn one reminder and one escalation. Time is an adjustable
 * clock injected into EMS — the timers themselves are the real ones (DBOS waits, service pollers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { adjustableClock, type AdjustableClock } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ACCESS_ADMIN, employeePicker, http, startAcceptanceEms, tokenFor, type AcceptanceBus, type AcceptanceEnv } from './harness.ts';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../packages/server/bin/ems.mjs');

interface Step {
  status: string;
  at: string | null;
}
interface CaseBody {
  id: string;
  status: string;
  submittedAt: string;
  lastWorkingDay: string;
  closedAt: string | null;
  decision: { decision: string; revision: number; lastWorkingDay: string | null; revokeAt: string | null; note: string | null } | null;
  steps: Record<string, Step | undefined>;
}
interface EmailBody {
  id: string;
  purpose: string;
  template: string;
  to: string;
  status: string;
}
interface Interview {
  id: string;
  status: string;
  start: string;
  end: string;
}
interface Revocation {
  status: string;
  revokeAt: string;
  revision: number;
  doneAt: string | null;
}
interface AccessItem {
  grantId: string;
  system: string;
  critical: boolean;
  status: string;
}

const DAY = 86_400_000;

export function defineDecisionLifecycleSuite(mode: 'orchestration' | 'choreography', bus: AcceptanceBus = 'postgres') {
  describe(`decision lifecycle (${mode}${bus === 'nats' ? ', NATS' : ''})`, () => {
    const org = demoOrg();
    const { takeEmployee, managerOf } = employeePicker(org);

    let env: AcceptanceEnv;
    let base: string;
    let clock: AdjustableClock;

    beforeAll(async () => {
      clock = adjustableClock(undefined, 500);
      env = await startAcceptanceEms(mode, `${mode}_lifecycle${bus === 'nats' ? '_nats' : ''}`, { clock, bus });
      base = env.base;
    });

    afterAll(async () => {
      await env?.stop();
    });

    const getCase = async (id: string) => (await http<CaseBody>(base, 'GET', `/api/resignations/${id}`)).body;
    const until = (id: string, what: string, ok: (c: CaseBody) => boolean, timeoutMs = 30_000) =>
      waitFor(async () => {
        const c = await getCase(id);
        return ok(c) ? c : undefined;
      }, `case ${id}: ${what}`, timeoutMs);
    const decide = (id: string, body: unknown, headers: Record<string, string> = {}) => http<CaseBody & { type?: string; detail?: string }>(base, 'POST', `/api/resignations/${id}/decision`, body, headers);
    const withdraw = (id: string, body: unknown = {}) => http<CaseBody & { type?: string }>(base, 'POST', `/api/resignations/${id}/withdrawal`, body);
    /**
     * Barrier: nothing left in flight — every event on its way to a subscriber has been handled or
     * dead-lettered (the bus's settled(), on either bus), then no email waits in Notification's queue: what a
     * repeated decision, or a timer, would send has been sent.
     */
    const quiet = async () => {
      for (const subscriber of env.ems.bus.subscribers()) await env.ems.bus.settled(subscriber);
      const queued = async () => Number((await env.ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM notification.emails WHERE status = 'queued'`)).rows[0]!.n);
      await waitFor(async () => ((await queued()) === 0 ? true : undefined), 'no email queued', 30_000);
    };
    /**
     * Barrier after moving the clock when nothing may fall due: every timer that could act on the case has
     * looked at the clock since it moved and gone back to waiting — Access's revocation timer and, in
     * choreography, HR's follow-up timer have each run a round; in orchestration the case's workflow (its id
     * is the case's) has read the clock three more times: the second of those reads began after the move,
     * and the third shows it decided to wait again (one that acts first ends the loop, so the third never
     * comes). A workflow that has ended looks at nothing any more. Then whatever they started has run.
     */
    const timersLooked = async (caseId: string) => {
      await env.ems.timers.drained();
      if (mode === 'orchestration') {
        const progress = async () =>
          (
            await env.ems.pool.query<{ reads: number; status: string | null }>(
              `SELECT (SELECT count(*)::int FROM dbos.operation_outputs WHERE workflow_uuid = $1 AND function_name = 'clock') AS reads,
                      (SELECT status FROM dbos.workflow_status WHERE workflow_uuid = $1) AS status`,
              [caseId],
            )
          ).rows[0]!;
        const waiting = (status: string | null) => status === 'PENDING' || status === 'ENQUEUED';
        const seen = await progress();
        if (waiting(seen.status)) {
          await waitFor(async () => {
            const now = await progress();
            return now.reads >= seen.reads + 3 || !waiting(now.status) ? true : undefined;
          }, `case ${caseId}: its workflow to look at the clock again and wait`, 30_000);
        }
      }
      await quiet();
    };
    const emailsOf = async (id: string) => (await http<{ items: EmailBody[] }>(base, 'GET', `/api/emails?resignationId=${id}&limit=100`)).body.items;
    const delivered = (emailId: string) => env.smtp.messages.filter((m) => m.headers.get('x-ems-email-id') === emailId);
    const interviewOf = async (id: string) => (await http<{ items: Interview[] }>(base, 'GET', `/api/interviews?resignationId=${id}`)).body.items[0]!;
    const accessOf = async (employeeId: string) => (await http<{ items: AccessItem[] }>(base, 'GET', `/api/employees/${employeeId}/access`)).body.items;
    const timelineOf = async (id: string) => (await http<{ items: Array<{ type: string; service: string; summary: string }> }>(base, 'GET', `/api/resignations/${id}/timeline`)).body.items;
    const localToday = (timezone: string) => new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(clock.now());
    const plusDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
    /** The first day from `date` on (itself included) that is one of the employee's working days. */
    const workingDayFrom = (employee: Employee, date: string): string => {
      let day = date;
      while (!employee.workingHours.days.includes(((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1)) day = plusDays(day, 1);
      return day;
    };

    /** A resignation whose three reactions are done: the starting point of every decision. */
    async function awaitingDecision(employee: Employee): Promise<CaseBody> {
      const res = await http<CaseBody>(base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(res.status).toBe(201);
      return until(res.body.id, 'awaiting the decision', (c) => c.status === 'awaiting_decision');
    }

    /** Decision emails of a case, once every one of them is delivered over SMTP. */
    async function decisionNotices(id: string, n: number): Promise<EmailBody[]> {
      return waitFor(async () => {
        const notices = (await emailsOf(id)).filter((e) => e.template === 'resignation-decision-notice');
        return notices.length >= n && notices.every((e) => e.status === 'sent' && delivered(e.id).length === 1) ? notices : undefined;
      }, `${n} decision notices of ${id} delivered`);
    }

    it('when HR retains the employee after the interview, then exactly the suspended grants come back, manager and employee are told, and the case closes', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      const before = await accessOf(employee.id);
      const kase = await awaitingDecision(employee);
      const suspended = (await accessOf(employee.id)).filter((i) => i.status === 'suspended');
      expect(suspended.length).toBeGreaterThan(0);

      // HR holds the interview, with notes.
      const interview = await interviewOf(kase.id);
      clock.set(new Date(Date.parse(interview.start) + 60_000)); // the conversation takes place (not before)
      const held = await http<Interview & { heldAt: string; notes: string }>(base, 'POST', `/api/interviews/${interview.id}/held`, { notes: 'Would stay for a team change' });
      expect(held.status).toBe(200);
      expect(held.body).toMatchObject({ status: 'held', notes: 'Would stay for a team change' });

      const res = await decide(kase.id, { decision: 'retained', note: 'Moves to the platform team' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('retained');
      expect(res.body.decision).toMatchObject({ decision: 'retained', note: 'Moves to the platform team', revision: 1 });

      const closed = await until(kase.id, 'closed', (c) => c.closedAt !== null);
      expect(closed.status).toBe('retained');
      for (const step of ['announceDecision', 'restoreAccess', 'cancelInterview']) expect(closed.steps[step]?.status).toBe('done');
      expect(closed.steps.revokeAccess).toBeUndefined();

      // Access: everything as it was before the resignation.
      const after = await accessOf(employee.id);
      expect(after.map((i) => [i.grantId, i.status]).sort()).toEqual(before.map((i) => [i.grantId, i.status]).sort());
      // The interview was held: nothing to cancel, it stays held.
      expect((await interviewOf(kase.id)).status).toBe('held');

      // Manager and employee are told, once each.
      const notices = await decisionNotices(kase.id, 2);
      expect(notices.map((e) => e.to).sort()).toEqual([employee.email, manager.email].sort());

      // Repeating the decision changes nothing; another decision, or a withdrawal, is refused with 409.
      const again = await decide(kase.id, { decision: 'retained' });
      expect(again.status).toBe(200);
      expect(again.body.decision?.revision).toBe(1);
      for (const refused of [await decide(kase.id, { decision: 'exit_confirmed' }), await withdraw(kase.id)]) {
        expect(refused.status).toBe(409);
        expect(refused.contentType).toContain('application/problem+json');
        expect(refused.body).toMatchObject({ type: 'https://ems.dev/problems/illegal-transition', status: 409 });
      }
      await quiet();
      expect((await emailsOf(kase.id)).filter((e) => e.template === 'resignation-decision-notice')).toHaveLength(2);
      const timeline = (await timelineOf(kase.id)).map((t) => t.type);
      expect(timeline).toEqual(expect.arrayContaining(['com.ems.resignation.retained.v1', 'case.closed']));

      // One timeline, the same sentences in both modes: the decision once, every entry a sentence (never an
      // event's type), people named — and no address anywhere, in a summary or in a detail.
      const story = (await http<{ items: Array<{ type: string; summary: string; detail: unknown }> }>(base, 'GET', `/api/resignations/${kase.id}/timeline`)).body.items;
      expect(story.filter((t) => t.type === 'com.ems.resignation.retained.v1')).toHaveLength(1);
      expect(story.filter((t) => /^com\.ems\./.test(t.summary))).toEqual([]);
      expect(story.map((t) => t.summary)).toEqual(
        expect.arrayContaining([
          `${employee.name} resigned; last working day ${kase.lastWorkingDay}`,
          `Manager ${manager.name} notified by email`,
          expect.stringMatching(/^Exit interview booked for /),
          expect.stringMatching(/^Critical access suspended: /),
          'All three reactions done; awaiting the decision',
          `Decision (retained) announced to ${manager.name} and ${employee.name}`,
          expect.stringMatching(/^Access restored: /),
          'Case closed (retained)',
        ]),
      );
      expect(JSON.stringify(story)).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);

      // Who did what: the employee resigned themselves, the HR lead decided (the decision says so), and the
      // restored access is audited as Access acting on the HR lead's behalf — in both modes.
      const entries = await http<{ items: Array<{ type: string; actor: { id: string; kind: string; role: string; client: string } }> }>(base, 'GET', `/api/resignations/${kase.id}/timeline`);
      expect(entries.body.items.find((t) => t.type === 'com.ems.resignation.submitted.v1')?.actor).toMatchObject({ id: employee.id, kind: 'person', role: 'employee', client: 'ems-cli' });
      expect(entries.body.items.find((t) => t.type === 'com.ems.resignation.retained.v1')?.actor).toMatchObject({ id: 'hr-lead', kind: 'person', role: 'hr_lead' });
      expect(res.body.decision).toMatchObject({ decidedBy: { id: 'hr-lead', role: 'hr_lead' } });
      const audit = await http<{ items: Array<{ to: string; actor: { id: string; kind: string }; onBehalfOf: { id: string } | null }> }>(base, 'GET', `/api/access-audit?employeeId=${employee.id}&limit=500`);
      const restored = audit.body.items.filter((a) => a.to === 'active');
      expect(restored.length).toBe(suspended.length);
      for (const a of restored) {
        expect(a.actor.kind).toBe('service');
        expect(a.onBehalfOf?.id).toBe('hr-lead');
      }
    });

    it('when the employee withdraws before the interview, then the interview is cancelled with a calendar cancellation, access is restored, and the case closes as withdrawn', async () => {
      const employee = takeEmployee();
      const partner = org.hrPartners.find((p) => p.id === employee.hrPartnerId)!;
      const kase = await awaitingDecision(employee);
      // The employee's path: the CLI, signed in as themselves.
      const cli = await execFileAsync(process.execPath, [CLI, 'withdraw', kase.id, '--note', 'Changed my mind'], { env: { ...process.env, EMS_URL: base, EMS_TOKEN: await tokenFor(base, employee.id) }, timeout: 60_000 });
      expect(cli.stdout).toContain('status: withdrawn');
      expect(cli.stdout).toContain('withdrew the resignation — Changed my mind');
      // Withdrawing again changes nothing.
      const res = await withdraw(kase.id, { note: 'Changed my mind' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('withdrawn');

      const closed = await until(kase.id, 'closed', (c) => c.closedAt !== null);
      expect(closed.status).toBe('withdrawn');
      expect((await interviewOf(kase.id)).status).toBe('cancelled');
      for (const recipient of [employee.email, partner.email]) {
        await waitFor(
          async () =>
            env.smtp.messages.find(
              (m) => [m.to].flat().some((a) => a?.value.some((v) => v.address === recipient)) && m.attachments.some((a) => /METHOD:CANCEL/.test(a.content.toString('utf8'))),
            ),
          `cancellation to ${recipient}`,
        );
      }
      expect((await accessOf(employee.id)).every((i) => i.status === 'active')).toBe(true);
      await decisionNotices(kase.id, 2);
      // A decision after the withdrawal is refused.
      expect((await decide(kase.id, { decision: 'retained' })).status).toBe(409);
      // The employee may resign again later: the closed case no longer blocks a new one.
      const again = await http<CaseBody>(base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(again.status).toBe(201);
      await until(again.body.id, 'settled', (c) => c.status === 'awaiting_decision');
    });

    it('when a decision is malformed, concerns no case, or asks for a past last day or a day off, then it is refused with problem+json and changes nothing', async () => {
      const employee = takeEmployee();
      const kase = await awaitingDecision(employee);
      const bad = await decide(kase.id, { decision: 'maybe' });
      expect(bad.status).toBe(400);
      expect(bad.contentType).toContain('application/problem+json');
      const extra = await decide(kase.id, { decision: 'retained', sneaky: true });
      expect(extra.status).toBe(400);
      const unknown = await decide('00000000-0000-4000-8000-000000000000', { decision: 'retained' });
      expect(unknown.status).toBe(404);
      const past = await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: plusDays(localToday(employee.timezone), -1) });
      expect(past.status).toBe(409);
      expect(past.body.detail).toMatch(/past/);
      // A day off in the employee's calendar is no last working day.
      let sunday = plusDays(localToday(employee.timezone), 2);
      while (new Date(`${sunday}T00:00:00Z`).getUTCDay() !== 0) sunday = plusDays(sunday, 1);
      const dayOff = await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: sunday });
      expect(dayOff.status).toBe(400);
      expect(dayOff.contentType).toContain('application/problem+json');
      expect(dayOff.body.detail).toBe(`${sunday} is a Sunday, not a working day for ${employee.id} (works Mon–Fri)`);
      expect(JSON.stringify(dayOff.body)).toContain('body.lastWorkingDay');
      const unchanged = await getCase(kase.id);
      expect(unchanged.status).toBe('awaiting_decision');
      expect(unchanged.decision).toBeNull();
      expect((await emailsOf(kase.id)).filter((e) => e.template === 'resignation-decision-notice')).toHaveLength(0);
    });

    it('when the exit is confirmed and the last day moved, then everything is revoked at the end of the new last day in the employee zone — not before', async () => {
      const employee = takeEmployee();
      const kase = await awaitingDecision(employee);
      const today = localToday(employee.timezone);
      // Working days of the employee: the first at least 3 days ahead, and a later one.
      const earlier = workingDayFrom(employee, plusDays(today, 3));
      const later = workingDayFrom(employee, plusDays(earlier, 2));
      const first = await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: later });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'exit_confirmed', decision: { decision: 'exit_confirmed', revision: 1, lastWorkingDay: later } });
      await decisionNotices(kase.id, 2);

      // The last day moves earlier: a new revision, a new revocation time, a new pair of emails.
      const moved = await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: earlier });
      expect(moved.status).toBe(200);
      expect(moved.body.decision).toMatchObject({ revision: 2, lastWorkingDay: earlier });
      // The case's own last working day is the one in force, wherever it is shown (the case, the list, the CLI).
      expect(moved.body.lastWorkingDay).toBe(earlier);
      expect((await http<{ items: CaseBody[] }>(base, 'GET', `/api/resignations?employeeId=${employee.id}`)).body.items[0]?.lastWorkingDay).toBe(earlier);
      const revokeAt = Date.parse(moved.body.decision!.revokeAt!);
      // Midnight at the end of that day, in the employee's zone.
      expect(new Intl.DateTimeFormat('en-CA', { timeZone: employee.timezone }).format(new Date(revokeAt))).toBe(plusDays(earlier, 1));
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: employee.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(revokeAt))).toBe('00:00');
      await decisionNotices(kase.id, 4);
      // Access shows the revocation it will carry out, in both modes: scheduled for the end of the new last day.
      const scheduled = await waitFor(async () => {
        const items = (await http<{ items: Array<{ status: string; revokeAt: string; revision: number }> }>(base, 'GET', `/api/access-revocations?resignationId=${kase.id}`)).body.items;
        return items.length === 1 && items[0]!.revision === 2 ? items[0] : undefined;
      }, 'the revocation scheduled for the new last day');
      expect(scheduled).toMatchObject({ status: 'scheduled', revokeAt: new Date(revokeAt).toISOString() });
      expect((await timelineOf(kase.id)).filter((t) => /^Access will be revoked at /.test(t.summary)).length).toBeGreaterThanOrEqual(1);
      // Repeating it changes nothing.
      expect((await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: earlier })).body.decision?.revision).toBe(2);

      // A minute before the end of the last day: nothing revoked yet.
      clock.set(new Date(revokeAt - 60_000));
      await timersLooked(kase.id);
      expect((await getCase(kase.id)).status).toBe('exit_confirmed');
      expect((await accessOf(employee.id)).some((i) => i.status !== 'revoked')).toBe(true);

      // The day ends: every remaining grant is revoked, once, and the case is closed as exited.
      clock.set(new Date(revokeAt + 1_000));
      const exited = await until(kase.id, 'exited', (c) => c.status === 'exited' && c.closedAt !== null);
      expect(exited.steps.revokeAccess?.status).toBe('done');
      expect((await accessOf(employee.id)).every((i) => i.status === 'revoked')).toBe(true);
      expect((await timelineOf(kase.id)).map((t) => t.type)).toEqual(expect.arrayContaining(['com.ems.resignation.exit-confirmed.v1', 'case.exited', 'case.closed']));
      // The day can no longer move.
      expect((await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: workingDayFrom(employee, plusDays(today, 30)) })).status).toBe(409);
    });

    it('when IT revokes access now, before the end of the last working day, then the case is exited at once, the revocation keeps its schedule beside when it was done, and each grant is revoked once', async () => {
      const employee = takeEmployee();
      const kase = await awaitingDecision(employee);
      const lastDay = workingDayFrom(employee, plusDays(localToday(employee.timezone), 5));
      const confirmed = await decide(kase.id, { decision: 'exit_confirmed', lastWorkingDay: lastDay });
      expect(confirmed.status).toBe(200);
      const revokeAt = confirmed.body.decision!.revokeAt!;
      const scheduled = await waitFor(async () => {
        const items = (await http<{ items: Revocation[] }>(base, 'GET', `/api/access-revocations?resignationId=${kase.id}`)).body.items;
        return items[0]?.status === 'scheduled' ? items[0] : undefined;
      }, 'the revocation scheduled for the end of the last day');
      expect(scheduled.revokeAt).toBe(revokeAt);

      // IT's access administrator revokes now, as the web app does (the next revision, no instant). The clock never reaches revokeAt.
      const now = await http<Revocation>(base, 'POST', '/api/access-revocations', { resignationId: kase.id, employeeId: employee.id, revision: scheduled.revision + 1, reason: 'Revoked now by the access administrator' }, { authorization: `Bearer ${await tokenFor(base, ACCESS_ADMIN)}`, 'idempotency-key': `revoke-now-${kase.id}` });
      expect(now.status).toBe(200);
      expect(now.body.status).toBe('done');
      // Both instants: the one it was scheduled for, and when it was carried out (before that).
      expect(now.body.revokeAt).toBe(revokeAt);
      expect(now.body.doneAt).not.toBeNull();
      expect(Date.parse(now.body.doneAt!)).toBeLessThan(Date.parse(revokeAt));

      // The case follows without waiting for the schedule: the step done when access was revoked, exited and closed.
      const exited = await until(kase.id, 'exited', (c) => c.status === 'exited' && c.closedAt !== null);
      expect(exited.steps.revokeAccess).toMatchObject({ status: 'done', at: now.body.doneAt });
      expect((await timelineOf(kase.id)).map((t) => t.type)).toEqual(expect.arrayContaining(['case.exited', 'case.closed']));
      expect((await accessOf(employee.id)).every((i) => i.status === 'revoked')).toBe(true);

      // The revocation as Access keeps it, read again after the case moved on: unchanged, done once.
      const [kept] = (await http<{ items: Revocation[] }>(base, 'GET', `/api/access-revocations?resignationId=${kase.id}`)).body.items;
      expect(kept).toMatchObject({ status: 'done', revokeAt, doneAt: now.body.doneAt, revision: scheduled.revision + 1 });
      // Exactly one revocation per grant in the audit, whoever asked (the orchestrator asks again once woken: Access answers with the one done).
      const audit = await http<{ items: Array<{ grantId: string; to: string }> }>(base, 'GET', `/api/access-audit?employeeId=${employee.id}&limit=500`);
      const revokedGrants = audit.body.items.filter((a) => a.to === 'revoked').map((a) => a.grantId);
      expect(revokedGrants.length).toBe(new Set(revokedGrants).size);
      expect(new Set(revokedGrants)).toEqual(new Set((await accessOf(employee.id)).map((i) => i.grantId)));
    });

    it('when the interview is not held in time, then the HR partner gets one reminder and, still nothing, the HR lead one escalation — never repeated', async () => {
      const employee = takeEmployee();
      const kase = await awaitingDecision(employee);
      const interview = await interviewOf(kase.id);
      const partner = (await http<{ email: string; lead: { email: string } | null }>(base, 'GET', `/api/hr-partners/${employee.hrPartnerId}`)).body;
      expect(partner.lead).not.toBeNull();
      const followUps = async () => (await emailsOf(kase.id)).filter((e) => e.template === 'exit-follow-up');

      // Default policy: reminder 1 day after the interview's end, escalation 2 days after that.
      clock.set(new Date(Date.parse(interview.end) + DAY - 60_000));
      await timersLooked(kase.id);
      expect(await followUps()).toHaveLength(0);

      clock.set(new Date(Date.parse(interview.end) + DAY + 1_000));
      const reminder = await waitFor(async () => (await followUps()).find((e) => e.status === 'sent'), 'the reminder');
      expect(reminder).toMatchObject({ to: partner.email, purpose: 'follow-up:interview_held.reminder' });
      await waitFor(async () => (delivered(reminder.id).length === 1 ? true : undefined), 'the reminder delivered');

      clock.set(new Date(Date.parse(interview.end) + 3 * DAY + 1_000));
      const escalation = await waitFor(async () => (await followUps()).find((e) => e.purpose === 'follow-up:interview_held.escalation' && e.status === 'sent'), 'the escalation');
      expect(escalation.to).toBe(partner.lead!.email);

      // Time goes on (still before the decision deadline): nothing is sent again for this deadline.
      clock.set(new Date(Date.parse(interview.end) + 3 * DAY + 3_600_000));
      await timersLooked(kase.id);
      const all = await followUps();
      expect(all.filter((e) => e.purpose.startsWith('follow-up:interview_held'))).toHaveLength(2);
      const timeline = await timelineOf(kase.id);
      expect(timeline.filter((t) => t.type === 'com.ems.hr.follow-up-sent.v1')).toHaveLength(2);

      // Holding the interview and deciding ends the follow-ups.
      expect((await http(base, 'POST', `/api/interviews/${interview.id}/held`, {})).status).toBe(200);
      expect((await decide(kase.id, { decision: 'retained' })).status).toBe(200);
      // Once the decision has reached every service (in choreography, through the bus) and the case closed,
      // no deadline, however far the clock moves, sends anything more.
      await until(kase.id, 'closed', (c) => c.closedAt !== null);
      clock.set(new Date(Date.parse(interview.end) + 30 * DAY));
      await timersLooked(kase.id);
      expect((await followUps()).length).toBe(all.length);
    });

    it.runIf(mode === 'orchestration')('when no decision comes, then the case’s decision workflow begins only once its first follow-up can be due: none waits before', async () => {
      const kase = await awaitingDecision(takeEmployee());
      const workflow = async () => (await env.ems.pool.query<{ status: string }>('SELECT status FROM dbos.workflow_status WHERE workflow_uuid = $1', [kase.id])).rows[0]?.status ?? null;
      // The sweeper's mark: its due scan (the partial index resignations_decision_unstarted) holds the case until then.
      const markedAt = async () => (await env.ems.pool.query<{ at: Date | null }>('SELECT decision_workflow_started_at AS at FROM ems.resignations WHERE id = $1', [kase.id])).rows[0]!.at;
      const submitted = Date.parse(kase.submittedAt);
      // Default policy: the first follow-up can be due a day after the submission (to schedule, or to hold, the interview).
      clock.set(new Date(submitted + DAY - 60_000));
      await env.ems.timers.drained();
      expect(await workflow()).toBeNull();
      expect(await markedAt()).toBeNull();
      const due = new Date(submitted + DAY + 1_000);
      clock.set(due);
      await env.ems.timers.drained();
      expect(await workflow()).toBe('PENDING');
      // Marked on the sweeper's clock (which runs on from `due`), once: a later round does not mark it again.
      const marked = await markedAt();
      expect(marked!.getTime()).toBeGreaterThanOrEqual(due.getTime());
      clock.set(new Date(submitted + DAY + 60_000));
      await env.ems.timers.drained();
      expect(await markedAt()).toEqual(marked);
    });

    it.runIf(mode === 'orchestration')('when a workflow EMS did not start already has a waiting case’s id, then the sweeper leaves it as it is, marks the case, and still starts the other cases’ decision workflows', async () => {
      const foreign = await awaitingDecision(takeEmployee());
      const other = await awaitingDecision(takeEmployee());
      const workflow = async (id: string) =>
        (await env.ems.pool.query<{ name: string; status: string }>('SELECT name, status FROM dbos.workflow_status WHERE workflow_uuid = $1', [id])).rows[0] ?? null;
      const markedAt = async (id: string) => (await env.ems.pool.query<{ at: Date | null }>('SELECT decision_workflow_started_at AS at FROM ems.resignations WHERE id = $1', [id])).rows[0]!.at;
      // A workflow with the case's id under another name (as an earlier release's, ended): DBOS refuses to start
      // another workflow with that id, so the sweeper must not try — nor stop at it.
      await env.ems.pool.query(
        `INSERT INTO dbos.workflow_status
           SELECT (jsonb_populate_record(w, jsonb_build_object('workflow_uuid', $1::text, 'name', 'resignation-by-an-earlier-release'))).*
           FROM dbos.workflow_status w WHERE workflow_uuid = $1::text || ':reactions'`,
        [foreign.id],
      );
      const before = await workflow(foreign.id);
      expect(before).toMatchObject({ name: 'resignation-by-an-earlier-release' });
      clock.set(new Date(Math.max(Date.parse(foreign.submittedAt), Date.parse(other.submittedAt)) + DAY + 1_000));
      await env.ems.timers.drained();
      expect(await workflow(other.id)).toMatchObject({ name: 'resignation', status: 'PENDING' });
      expect(await workflow(foreign.id)).toEqual(before);
      expect(await markedAt(foreign.id)).not.toBeNull();
      expect(await markedAt(other.id)).not.toBeNull();
    });

    it('when the HR partner has no HR lead, then the escalation is skipped and the case shows it in the same entry in either mode', async () => {
      const employee = takeEmployee();
      const partnerId = employee.hrPartnerId;
      const leadOf = async () => (await env.ems.pool.query<{ lead_id: string | null }>('SELECT lead_id FROM hr.hr_partners WHERE id = $1', [partnerId])).rows[0]!.lead_id;
      const lead = await leadOf();
      expect(lead).not.toBeNull();
      const kase = await awaitingDecision(employee);
      const interview = await interviewOf(kase.id);
      await env.ems.pool.query('UPDATE hr.hr_partners SET lead_id = NULL WHERE id = $1', [partnerId]);
      try {
        // The reminder goes to the partner; the escalation two days later has nobody to go to.
        clock.set(new Date(Date.parse(interview.end) + DAY + 1_000));
        await waitFor(async () => (await timelineOf(kase.id)).find((t) => t.type === 'com.ems.hr.follow-up-sent.v1'), 'the reminder on the timeline');
        clock.set(new Date(Date.parse(interview.end) + 3 * DAY + 1_000));
        const skipped = await waitFor(async () => (await timelineOf(kase.id)).find((t) => t.type === 'com.ems.hr.follow-up-skipped.v1'), 'the skipped escalation on the timeline');
        // What a reader sees, worded once (the same literal in both modes): what was due, that it was not sent, and why.
        expect(skipped).toMatchObject({
          service: 'hr',
          type: 'com.ems.hr.follow-up-skipped.v1',
          summary: `Escalation not sent (interview not held): HR partner ${partnerId} has no HR lead to escalate to`,
        });
        // Once, and no other entry about it (orchestration's workflow wrote its own '….failed' entry before).
        await timersLooked(kase.id);
        const timeline = await timelineOf(kase.id);
        expect(timeline.filter((t) => t.type.startsWith('com.ems.hr.follow-up-'))).toEqual([
          expect.objectContaining({ type: 'com.ems.hr.follow-up-sent.v1' }),
          expect.objectContaining({ type: 'com.ems.hr.follow-up-skipped.v1' }),
        ]);
        expect((await emailsOf(kase.id)).filter((e) => e.template === 'exit-follow-up').map((e) => e.purpose)).toEqual(['follow-up:interview_held.reminder']);
      } finally {
        await env.ems.pool.query('UPDATE hr.hr_partners SET lead_id = $2 WHERE id = $1', [partnerId, lead]);
      }
    });
  });
}
