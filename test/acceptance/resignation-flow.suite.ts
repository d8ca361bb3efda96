/**
 * The acceptance suite: end-to-end scenarios a user can see, written once and run against each
 * coordination mode. Real PostgreSQL (a throwaway database), real SMTP over loopback, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { freePort } from '@ems/platform';
import { loadConfig, startEms, type RunningEms } from '@ems/ems';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startProxy, type Proxy } from '../support/proxy.ts';
import { requestJson as http } from '@ems/platform/testing';
import { sleep, waitFor } from '@ems/platform/testing';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../packages/ems/bin/ems.mjs');

interface CaseBody {
  id: string;
  employeeId: string;
  status: string;
  mode: string;
  correlationId: string;
  steps: Record<'notifyManager' | 'scheduleInterview' | 'blockAccess', { status: string; at: string | null; attempts: number; lastError: string | null }>;
}

export function defineResignationSuite(mode: 'orchestration') {
  describe(`resignation flow (${mode})`, () => {
    const org = demoOrg();
    const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
    // Employees with a manager and at least one critical and one non-critical grant; each test takes its own.
    const candidates = org.employees.filter(
      (e) => e.managerId && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)) && org.grants.some((g) => g.employeeId === e.id && !critical.has(g.systemId)),
    );
    let next = 0;
    const takeEmployee = (): Employee => candidates[next++]!;
    const managerOf = (e: Employee) => org.employees.find((m) => m.id === e.managerId)!;

    let db: TestDatabase;
    let smtp: SmtpSink;
    let proxy: Proxy;
    let ems: RunningEms;
    let base: string;

    beforeAll(async () => {
      db = await createTestDatabase(inject('testServerUrl'), mode);
      smtp = await startSmtpSink();
      const port = await freePort();
      // Every call to Notification (from the orchestrator and from HR) goes through a proxy the tests control.
      proxy = await startProxy(() => port, await freePort());
      const config = loadConfig({
        EMS_PORT: String(port),
        EMS_MODE: mode,
        EMS_DATABASE_URL: db.url,
        EMS_SMTP_URL: smtp.url,
        EMS_NOTIFICATION_URL: proxy.url,
        EMS_LOG_LEVEL: 'warn',
        EMS_STEP_RETRY_INTERVAL_MS: '200',
      });
      ems = await startEms(config);
      base = ems.url;
    });

    afterAll(async () => {
      await ems?.stop();
      await proxy?.stop();
      await smtp?.stop();
      await db?.drop();
    });

    const submit = (body: unknown, headers: Record<string, string> = {}) => http<CaseBody>(base, 'POST', '/api/resignations', body, headers);
    const getCase = (id: string) => http<CaseBody>(base, 'GET', `/api/resignations/${id}`);
    const settled = (id: string, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const c = (await getCase(id)).body;
          return Object.values(c.steps).every((s) => s.status !== 'pending') && c.status !== 'in_progress' ? c : undefined;
        },
        `case ${id} to settle`,
        timeoutMs,
      );
    const mailsTo = (address: string) => smtp.messages.filter((m) => m.to && [m.to].flat().some((a) => a.value.some((v) => v.address === address)));
    const count = async (table: string) => Number((await ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

    it('when an employee resigns, then the manager gets one email, an exit interview is booked with an invite, and exactly the critical access is suspended', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      const res = await submit({ employeeId: employee.id, reason: 'A new adventure' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ employeeId: employee.id, mode, status: 'in_progress' });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);

      const done = await settled(res.body.id);
      expect(done.status).toBe('awaiting_decision');
      for (const step of ['notifyManager', 'scheduleInterview', 'blockAccess'] as const) {
        expect(done.steps[step].status).toBe('done');
        expect(Date.parse(done.steps[step].at!)).toBeGreaterThanOrEqual(Date.parse((res.body as unknown as { submittedAt: string }).submittedAt));
      }

      // 1. Exactly one email to the manager, delivered over SMTP.
      const toManager = await waitFor(async () => (mailsTo(manager.email).length ? mailsTo(manager.email) : undefined), 'manager email');
      await sleep(300);
      expect(mailsTo(manager.email)).toHaveLength(1);
      expect(toManager[0]!.subject).toContain(employee.name);
      expect(toManager[0]!.text).toContain(employee.name);

      // 2. One interview, in the HR partner's working hours, with an ICS invite to employee and partner.
      const interviews = await http<{ items: Array<{ id: string; start: string; end: string; timezone: string; hrPartnerId: string; status: string }> }>(base, 'GET', `/api/interviews?resignationId=${res.body.id}`);
      expect(interviews.body.items).toHaveLength(1);
      const interview = interviews.body.items[0]!;
      expect(interview.hrPartnerId).toBe(employee.hrPartnerId);
      expect(Date.parse(interview.end) - Date.parse(interview.start)).toBe(30 * 60_000);
      const partner = org.hrPartners.find((p) => p.id === employee.hrPartnerId)!;
      const localStart = new Intl.DateTimeFormat('en-GB', { timeZone: partner.timezone, hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' }).format(new Date(interview.start));
      expect(localStart).not.toMatch(/Sat|Sun/);
      const hhmm = localStart.slice(-5);
      expect(hhmm >= partner.workingHours.start && hhmm < partner.workingHours.end).toBe(true);
      for (const recipient of [employee.email, partner.email]) {
        const invite = await waitFor(async () => mailsTo(recipient).find((m) => m.attachments.some((a) => a.contentType.startsWith('text/calendar')) || /BEGIN:VCALENDAR/.test(String(m.text))), `invite to ${recipient}`);
        const ics = invite.attachments.find((a) => a.contentType.startsWith('text/calendar'))!.content.toString('utf8');
        expect(ics).toMatch(/BEGIN:VCALENDAR/);
        expect(ics).toMatch(/METHOD:REQUEST/);
        expect(ics).toMatch(/BEGIN:VEVENT[\s\S]*DTSTART[\s\S]*END:VEVENT/);
      }

      // 3. Critical grants suspended; non-critical untouched.
      const accessRes = await http<{ items: Array<{ system: string; critical: boolean; status: string }> }>(base, 'GET', `/api/employees/${employee.id}/access`);
      const items = accessRes.body.items;
      expect(items.filter((i) => i.critical).length).toBeGreaterThan(0);
      for (const item of items) expect(item.status).toBe(item.critical ? 'suspended' : 'active');

      // The timeline tells the story, in order, with one correlation id.
      const timeline = await http<{ items: Array<{ service: string; type: string; at: string; correlationId: string }> }>(base, 'GET', `/api/resignations/${res.body.id}/timeline`);
      const services = timeline.body.items.map((t) => t.service);
      expect(services[0]).toBe('ems');
      expect(services).toEqual(expect.arrayContaining(['notification', 'hr', 'access']));
      expect(new Set(timeline.body.items.map((t) => t.correlationId))).toEqual(new Set([res.body.correlationId]));
      const times = timeline.body.items.map((t) => Date.parse(t.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);

      // Listing and filtering.
      const awaiting = await http<{ items: CaseBody[] }>(base, 'GET', '/api/resignations?status=awaiting_decision');
      expect(awaiting.body.items.map((c) => c.id)).toContain(res.body.id);
    });

    it('when the employee already has an open resignation, then a second one is refused with 409 and nothing changes', async () => {
      const employee = takeEmployee();
      const first = await submit({ employeeId: employee.id });
      expect(first.status).toBe(201);
      const before = await count('ems.resignations');
      const second = await submit({ employeeId: employee.id, reason: 'again' });
      expect(second.status).toBe(409);
      expect(second.contentType).toContain('application/problem+json');
      expect(second.body).toMatchObject({ status: 409, resignationId: first.body.id });
      expect(await count('ems.resignations')).toBe(before);
      // Concurrent duplicates: exactly one wins.
      const other = takeEmployee();
      const racing = await Promise.all(Array.from({ length: 5 }, () => submit({ employeeId: other.id })));
      expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      await settled(first.body.id);
      await settled(racing.find((r) => r.status === 201)!.body.id);
    });

    it('when the same request is retried with an Idempotency-Key, then it answers the same case and does nothing twice', async () => {
      const employee = takeEmployee();
      const key = `retry-${employee.id}-${Date.now()}`;
      const a = await submit({ employeeId: employee.id }, { 'idempotency-key': key });
      const b = await submit({ employeeId: employee.id }, { 'idempotency-key': key });
      expect(a.status).toBe(201);
      expect(b.status).toBe(200);
      expect(b.body.id).toBe(a.body.id);
      await settled(a.body.id);
      expect(mailsTo(managerOf(employee).email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
    });

    it('when the input is invalid, then the answer is 400 problem+json naming the field, and nothing is stored or sent', async () => {
      const employee = takeEmployee();
      const before = { cases: await count('ems.resignations'), mails: smtp.messages.length, emails: await count('notification.emails') };
      const cases: Array<[unknown, string]> = [
        [{}, 'employeeId'],
        [{ employeeId: '' }, 'employeeId'],
        [{ employeeId: employee.id, lastWorkingDay: '2026-02-30' }, 'lastWorkingDay'],
        [{ employeeId: employee.id, lastWorkingDay: '31.12.2026' }, 'lastWorkingDay'],
        [{ employeeId: employee.id, lastWorkingDay: '2001-01-01' }, 'lastWorkingDay'],
        [{ employeeId: employee.id, reason: 'x'.repeat(5000) }, 'reason'],
        [{ employeeId: employee.id, surprise: true }, 'surprise'],
        [{ employeeId: 42 }, 'employeeId'],
        ['{"employeeId": ', ''],
      ];
      for (const [body, field] of cases) {
        const res = await submit(body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.contentType).toContain('application/problem+json');
        expect(res.body.status).toBe(400);
        expect(typeof (res.body as unknown as { title: unknown }).title).toBe('string');
        if (field) expect(JSON.stringify(res.body)).toContain(field);
      }
      const unknown = await submit({ employeeId: 'E999999' });
      expect(unknown.status).toBe(404);
      expect(unknown.contentType).toContain('application/problem+json');
      await sleep(300);
      expect(await count('ems.resignations')).toBe(before.cases);
      expect(await count('notification.emails')).toBe(before.emails);
      expect(smtp.messages.length).toBe(before.mails);
    });

    it('when Notification is down for a few seconds, then the case still completes, with exactly one manager email', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      await proxy.down();
      const res = await submit({ employeeId: employee.id });
      expect(res.status).toBe(201);
      // While it is down, the step waits and retries; the other reactions complete.
      const retrying = await waitFor(async () => {
        const c = (await getCase(res.body.id)).body;
        return c.steps.notifyManager.attempts >= 2 && c.steps.blockAccess.status === 'done' ? c : undefined;
      }, 'retries while Notification is down');
      expect(retrying.steps.notifyManager.status).toBe('pending');
      expect(retrying.steps.notifyManager.lastError).toMatch(/ECONNREFUSED|fetch failed|failed/);
      await sleep(2_000);
      await proxy.up();
      const done = await settled(res.body.id);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(done.status).toBe('awaiting_decision');
      await sleep(300);
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
    });

    it('when the CLI submits a resignation, then it shows the case with its steps done and its timeline, and lists cases and emails', async () => {
      const employee = takeEmployee();
      const ems = (...args: string[]) => execFileAsync(process.execPath, [CLI, ...args], { env: { ...process.env, EMS_URL: base }, timeout: 60_000 });
      const resign = await ems('resign', employee.id, '--reason', 'CLI test');
      expect(resign.stdout).toContain(`submitted for ${employee.name}`);
      const id = /Resignation ([0-9a-f-]{36}) submitted/.exec(resign.stdout)![1]!;
      for (const step of ['notifyManager', 'scheduleInterview', 'blockAccess']) expect(resign.stdout).toMatch(new RegExp(`✔ ${step}\\s+done`));
      expect(resign.stdout).toContain('Critical access suspended');
      const shown = await ems('case', id);
      expect(shown.stdout).toContain(`status: awaiting_decision`);
      expect(shown.stdout).toMatch(/notification\s+Manager .* notified by email/);
      expect((await ems('cases')).stdout).toContain(id);
      expect((await ems('emails', '--case', id)).stdout).toContain(managerOf(employee).email);
      const again = await ems('resign', employee.id).catch((err: { code: number; stderr: string }) => err);
      expect(again).toMatchObject({ code: 1 });
      expect((again as { stderr: string }).stderr).toContain('409');
    });

    it('when Notification acts but its answer is lost, then the retry does not send a second email', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      proxy.loseAnswers(2);
      const lostBefore = proxy.lostAnswers();
      const res = await submit({ employeeId: employee.id });
      const done = await settled(res.body.id);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(proxy.lostAnswers() - lostBefore).toBeGreaterThanOrEqual(1);
      await sleep(300);
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
      expect(Number((await ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM notification.emails WHERE resignation_id = $1 AND purpose = 'manager-notice'`, [res.body.id])).rows[0]!.n)).toBe(1);
    });
  });
}
