/**
 * The acceptance suite: end-to-end scenarios a user can see, written once and run against each
 * coordination mode. Real PostgreSQL (a throwaway database), real SMTP over loopback, real HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { AccessPaths, HrPaths, NotificationPaths } from '@ems/contracts';
import type { RunningEms } from '@ems/server';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '@ems/webhooks';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SmtpSink } from '../support/smtp-sink.ts';
import type { Proxy } from '../support/proxy.ts';
import { networkRequests } from '../support/network-requests.ts';
import { employeePicker, http, startAcceptanceEms, tokenFor, OPERATOR, type AcceptanceBus, type AcceptanceEnv } from './harness.ts';
import { sleep, waitFor } from '@ems/platform/testing';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../packages/server/bin/ems.mjs');

interface CaseBody {
  id: string;
  employeeId: string;
  status: string;
  mode: string;
  correlationId: string;
  steps: Record<'notifyManager' | 'scheduleInterview' | 'suspendAccess', { status: string; at: string | null; attempts: number; lastError: string | null }>;
}

export function defineResignationSuite(mode: 'orchestration' | 'choreography', bus: AcceptanceBus = 'postgres') {
  describe(`resignation flow (${mode}${bus === 'nats' ? ', NATS' : ''})`, () => {
    const org = demoOrg();
    const { takeEmployee, managerOf } = employeePicker(org);
    const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));

    let env: AcceptanceEnv;
    let smtp: SmtpSink;
    let proxy: Proxy;
    let ems: RunningEms;
    let base: string;

    beforeAll(async () => {
      env = await startAcceptanceEms(mode, bus === 'nats' ? `${mode}_nats` : mode, { bus });
      ({ smtp, proxy, ems, base } = env);
    });

    afterAll(async () => {
      await env?.stop();
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
    /** A webhook on loopback for the given event types; removed (with its receiver) after the test. */
    const receivers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of receivers.splice(0)) await close();
    });
    const webhookReceiver = async (eventTypes: string[]) => {
      const events: Array<{ type: string; subject: string; traceparent: string; correlationid: string }> = [];
      const server = createServer((req, resp) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          events.push(JSON.parse(body) as (typeof events)[number]);
          resp.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const created = await http<{ id: string }>(base, 'POST', '/api/webhooks', { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, eventTypes });
      expect(created.status).toBe(201);
      receivers.push(async () => {
        await http(base, 'DELETE', `/api/webhooks/${created.body.id}`);
        await new Promise((r) => server.close(r));
      });
      return {
        eventsAbout: (subject: string, n: number) =>
          waitFor(async () => {
            const mine = events.filter((e) => e.subject === subject);
            return mine.length >= n ? mine : undefined;
          }, `${n} webhook deliveries about ${subject}`),
      };
    };
    const mailsTo = (address: string) => smtp.messages.filter((m) => m.to && [m.to].flat().some((a) => a.value.some((v) => v.address === address)));
    const count = async (table: string) => Number((await ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    /**
     * Barrier: nothing left in flight — no email waiting in Notification's queue (`sent` only after the SMTP
     * server said 250, so the sink has it) and, on the PostgreSQL bus, no delivery, retry or dead letter still
     * to run. A second email, hold, interview or task would have been written and sent by then. On NATS the
     * bus has no such table: there the old wait stays, for what the bus may still deliver.
     */
    const quiet = async (natsWaitMs = 300) => {
      if (bus === 'nats') await sleep(natsWaitMs);
      await waitFor(
        async () => ((await count(`notification.emails WHERE status = 'queued'`)) === 0 && (bus === 'nats' || (await count(`bus.job WHERE state < 'completed'`)) === 0) ? true : undefined),
        'no email queued and no bus job left to run',
        30_000,
      );
    };

    it('when an employee resigns, then the manager gets one email, an exit interview is booked with an invite, and exactly the critical access is suspended', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      const res = await submit({ employeeId: employee.id, reason: 'A new adventure' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ employeeId: employee.id, mode, status: 'in_progress' });
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);

      const done = await settled(res.body.id);
      expect(done.status).toBe('awaiting_decision');
      for (const step of ['notifyManager', 'scheduleInterview', 'suspendAccess'] as const) {
        expect(done.steps[step].status).toBe('done');
        expect(Date.parse(done.steps[step].at!)).toBeGreaterThanOrEqual(Date.parse((res.body as unknown as { submittedAt: string }).submittedAt));
      }

      // 1. Exactly one email to the manager, delivered over SMTP.
      const toManager = await waitFor(async () => (mailsTo(manager.email).length ? mailsTo(manager.email) : undefined), 'manager email');
      await quiet();
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
      const timeline = await http<{ items: Array<{ service: string; type: string; summary: string; at: string; correlationId: string }> }>(base, 'GET', `/api/resignations/${res.body.id}/timeline`);
      const services = timeline.body.items.map((t) => t.service);
      expect(services[0]).toBe('ems');
      expect(services).toEqual(expect.arrayContaining(['notification', 'hr', 'access']));
      expect(new Set(timeline.body.items.map((t) => t.correlationId))).toEqual(new Set([res.body.correlationId]));
      const times = timeline.body.items.map((t) => Date.parse(t.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      // Settling wrote its entry with the status (once): the case says why it now waits for a decision.
      const settledEntries = timeline.body.items.filter((t) => t.type === 'reactions.completed');
      expect(settledEntries.map((t) => [t.service, t.summary])).toEqual([['ems', 'All three reactions done; awaiting the decision']]);

      // The fifth service, loaded by configuration only, opened its recovery task for the last working day.
      const tasks = await waitFor(async () => {
        const t = await http<{ items: Array<{ dueDate: string; employeeId: string }> }>(base, 'GET', `/api/asset-recovery-tasks?resignationId=${res.body.id}`);
        return t.body.items.length ? t.body.items : undefined;
      }, 'the asset recovery task');
      expect(tasks).toHaveLength(1);
      expect(tasks[0]!.employeeId).toBe(employee.id);
      if (mode === 'choreography') {
        // EMS made no call to the services; it learnt everything from their events, the extension's included.
        const all = await waitFor(async () => {
          const t = await http<{ items: Array<{ service: string; type: string }> }>(base, 'GET', `/api/resignations/${res.body.id}/timeline`);
          return t.body.items.some((i) => i.service === 'assets') ? t.body.items : undefined;
        }, 'the extension event on the timeline');
        expect(all.map((i) => i.type)).toEqual(
          expect.arrayContaining(['com.ems.resignation.submitted.v1', 'com.ems.notification.manager-notified.v1', 'com.ems.hr.exit-interview-scheduled.v1', 'com.ems.access.critical-access-suspended.v1']),
        );
      }

      // Listing and filtering.
      const awaiting = await http<{ items: CaseBody[] }>(base, 'GET', '/api/resignations?status=awaiting_decision');
      expect(awaiting.body.items.map((c) => c.id)).toContain(res.body.id);
    });

    it.runIf(mode === 'orchestration')('when a case runs in the one process, then the orchestrator books the interview and suspends access through this process’s own server, not over the network; Notification, configured elsewhere, over it', async () => {
      const network = networkRequests();
      const overNetwork = network.seen;
      try {
        const employee = takeEmployee();
        const res = await submit({ employeeId: employee.id });
        expect(res.status).toBe(201);
        const done = await settled(res.body.id);
        for (const step of ['notifyManager', 'scheduleInterview', 'suspendAccess'] as const) expect(done.steps[step].status).toBe('done');
        // Notification sits behind the tests' proxy (another origin): its call went over the network, and was seen.
        expect(overNetwork).toContain(`POST ${NotificationPaths.managerNotices}`);
        expect(overNetwork).not.toContain(`POST ${AccessPaths.holds}`);
        expect(overNetwork).not.toContain(`POST ${HrPaths.interviews}`);
      } finally {
        network.stop();
      }
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
      // The open case answers before a day the calendar refuses: fixing the day would not let them resign.
      const refusedDay = await submit({ employeeId: employee.id, lastWorkingDay: '2000-01-03' });
      expect(refusedDay.status).toBe(409);
      expect(refusedDay.body).toMatchObject({ status: 409, resignationId: first.body.id });
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
      // The same key with another request is refused, and nothing is stored for it.
      const other = takeEmployee();
      const reused = await submit({ employeeId: other.id }, { 'idempotency-key': key });
      expect(reused.status).toBe(422);
      expect(reused.contentType).toContain('application/problem+json');
      expect((await http<{ items: unknown[] }>(base, 'GET', `/api/resignations?employeeId=${other.id}`)).body.items).toHaveLength(0);
    });

    it('when the same Idempotency-Key is sent by many requests at once, then every one answers the same case — one 201, the rest 200, never a 409', async () => {
      const employee = takeEmployee();
      const key = `burst-${employee.id}-${Date.now()}`;
      const answers = await Promise.all(Array.from({ length: 40 }, () => submit({ employeeId: employee.id, reason: 'Moving abroad' }, { 'idempotency-key': key })));
      expect(answers.map((a) => a.status).sort((x, y) => x - y)).toEqual([...Array<number>(39).fill(200), 201]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      await settled(answers[0]!.body.id);
      expect(mailsTo(managerOf(employee).email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
    });

    it('when the correlation header is empty, then the case id correlates everything; a traceparent is carried into the events', async () => {
      const employee = takeEmployee();
      const res = await submit({ employeeId: employee.id }, { 'x-correlation-id': '  ' });
      expect(res.status).toBe(201);
      expect(res.body.correlationId).toBe(res.body.id);
      await settled(res.body.id);
      const hooked = await webhookReceiver(['com.ems.resignation.submitted.v1', 'com.ems.access.critical-access-suspended.v1']);
      const traced = takeEmployee();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const withTrace = await submit({ employeeId: traced.id }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-correlation-id': `corr-${traced.id}` });
      expect(withTrace.body.correlationId).toBe(`corr-${traced.id}`);
      await settled(withTrace.body.id);
      // Every event of the case continues the caller's trace, whichever service published it.
      const seen = await hooked.eventsAbout(withTrace.body.id, 2);
      expect(seen.map((e) => e.type).sort()).toEqual(['com.ems.access.critical-access-suspended.v1', 'com.ems.resignation.submitted.v1']);
      for (const e of seen) {
        expect(e.traceparent.split('-')[1], e.type).toBe(traceId);
        expect(e.correlationid).toBe(`corr-${traced.id}`);
      }
    });

    it('when the last working day is a day off of the employee, then 400 problem+json names lastWorkingDay and the days they work, nothing is stored, and the CLI says so', async () => {
      const employee = takeEmployee();
      expect(employee.workingHours.days).toEqual([1, 2, 3, 4, 5]);
      // The first Saturday at least two days ahead, in the employee's own calendar.
      let saturday = new Intl.DateTimeFormat('en-CA', { timeZone: employee.timezone }).format(Date.now() + 2 * 86_400_000);
      while (new Date(`${saturday}T00:00:00Z`).getUTCDay() !== 6) saturday = new Date(Date.parse(`${saturday}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const expected = `${saturday} is a Saturday, not a working day for ${employee.id} (works Mon–Fri)`;

      const res = await submit({ employeeId: employee.id, lastWorkingDay: saturday });
      const problem = res.body as unknown as { status: number; detail: string; errors: Array<{ path: string; message: string }> };
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(problem.detail).toBe(expected);
      expect(problem.errors).toEqual([{ path: 'body.lastWorkingDay', message: expected }]);
      expect((await http<{ items: CaseBody[] }>(base, 'GET', `/api/resignations?employeeId=${employee.id}`)).body.items).toEqual([]);

      const cli = await execFileAsync(process.execPath, [CLI, 'resign', employee.id, '--last-day', saturday], {
        env: { ...process.env, EMS_URL: base, EMS_TOKEN: await tokenFor(base, employee.id) },
        timeout: 60_000,
      }).catch((err: { code: number; stdout: string; stderr: string }) => err);
      expect(cli).toMatchObject({ code: 1 });
      expect((cli as { stderr: string }).stderr).toContain(`400 Invalid request: ${expected}`);
      expect((await http<{ items: CaseBody[] }>(base, 'GET', `/api/resignations?employeeId=${employee.id}`)).body.items).toEqual([]);
    });

    it('when the input is invalid, then the answer is 400 problem+json naming the field, and nothing is stored or sent', async () => {
      const employee = takeEmployee();
      const before = { cases: await count('ems.resignations'), emails: await count('notification.emails') };
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
      await quiet();
      expect(await count('ems.resignations')).toBe(before.cases);
      expect(await count('notification.emails')).toBe(before.emails);
      // (Other cases' mail may still be arriving; none may concern this employee.)
      expect(smtp.messages.filter((m) => m.subject?.includes(employee.name) || mailsTo(employee.email).includes(m))).toHaveLength(0);
    });

    it('when the mail server is down for a while, then the step turns late, the case is listed as stuck, and it completes with one email once mail is back', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      await smtp.down();
      let res: Awaited<ReturnType<typeof submit>>;
      try {
        res = await submit({ employeeId: employee.id });
        expect(res.status).toBe(201);
        const late = await waitFor(async () => {
          const c = (await getCase(res.body.id)).body;
          return c.steps.notifyManager.status === 'late' ? c : undefined;
        }, 'the manager notice to be late', 15_000);
        expect(late.steps.suspendAccess.status).toBe('done');
        const stuck = await http<{ items: CaseBody[] }>(base, 'GET', '/api/resignations?status=stuck');
        expect(stuck.body.items.map((c) => c.id)).toContain(res.body.id);
        const timeline = await http<{ items: Array<{ type: string }> }>(base, 'GET', `/api/resignations/${res.body.id}/timeline`);
        expect(timeline.body.items.map((t) => t.type)).toContain('notifyManager.late');
      } finally {
        await smtp.up();
      }
      // A late step is not pending, so `settled` could answer while it is still late: wait for it to be done.
      const done = await waitFor(async () => {
        const c = (await getCase(res.body.id)).body;
        return c.steps.notifyManager.status !== 'late' && c.status !== 'in_progress' ? c : undefined;
      }, 'the late manager notice to complete once mail is back', 30_000);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(done.status).toBe('awaiting_decision');
      const stuckAfter = await http<{ items: CaseBody[] }>(base, 'GET', '/api/resignations?status=stuck');
      expect(stuckAfter.body.items.map((c) => c.id)).not.toContain(res.body.id);
      await quiet();
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
    });

    it('when the employee shares no working hours with their HR partner, then no interview is booked and the case says why: the interview step failed with the reason', async () => {
      const employee = takeEmployee();
      // HR's directory: the employee works in Los Angeles under the Singapore partner (10:00–18:00 there is 18:00–02:00 in Los Angeles).
      await ems.pool.query(`UPDATE hr.employees SET timezone = 'America/Los_Angeles', work_days = '{1,2,3,4,5}', work_start = '09:00', work_end = '17:00', hr_partner_id = 'hrp-singapore' WHERE id = $1`, [employee.id]);
      const res = await submit({ employeeId: employee.id });
      expect(res.status).toBe(201);
      const done = await settled(res.body.id);
      expect(done.status).toBe('action_required');
      expect(done.steps.scheduleInterview.status).toBe('failed');
      expect(done.steps.scheduleInterview.lastError).toContain(`${employee.name} (Mon–Fri 09:00–17:00 America/Los_Angeles) and the HR partner Mei Lin Tan (Mon–Fri 10:00–18:00 Asia/Singapore) share no working hours`);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(done.steps.suspendAccess.status).toBe('done');
      expect((await http<{ items: unknown[] }>(base, 'GET', `/api/interviews?resignationId=${res.body.id}`)).body.items).toEqual([]);
    });

    it('when a reaction keeps failing, then the case shows the step failed and is listed as stuck — not silently pending', async () => {
      const employee = takeEmployee();
      // Break Access for real: its table disappears (as if its database were damaged).
      await ems.pool.query('ALTER TABLE access.holds RENAME TO holds_unavailable');
      let id: string;
      try {
        const res = await submit({ employeeId: employee.id });
        expect(res.status).toBe(201);
        id = res.body.id;
        const failed = await waitFor(async () => {
          const c = (await getCase(id)).body;
          return c.steps.suspendAccess.status === 'failed' ? c : undefined;
        }, 'the access step to fail', 30_000);
        expect(failed.steps.suspendAccess.lastError).toBeTruthy();
        expect(failed.steps.notifyManager.status).toBe('done');
        const stuck = await http<{ items: CaseBody[] }>(base, 'GET', '/api/resignations?status=stuck');
        expect(stuck.body.items.map((c) => c.id)).toContain(id);
        const settledCase = await settled(id);
        expect(settledCase.status).toBe('action_required');
      } finally {
        await ems.pool.query('ALTER TABLE access.holds_unavailable RENAME TO holds');
      }
      if (mode === 'choreography') {
        // The event sits in Access's dead-letter queue with the reason; replaying it completes the case.
        const subscriber = 'access.suspend-access-when-resignation-submitted';
        const dead = await http<{ items: Array<{ id: string; eventId: string | null; reason: string; attempts: number }> }>(base, 'GET', `/api/dead-letters?subscriber=${subscriber}`);
        const letter = dead.body.items.find((d) => d.eventId === id);
        expect(letter, JSON.stringify(dead.body.items)).toBeDefined();
        expect(letter!.reason).toMatch(/holds/);
        expect(letter!.attempts).toBe(4);
        // The operator's path: see it and replay it from the CLI.
        const cli = async (...args: string[]) => execFileAsync(process.execPath, [CLI, ...args], { env: { ...process.env, EMS_URL: base, EMS_TOKEN: await tokenFor(base, OPERATOR) }, timeout: 60_000 });
        expect((await cli('cases', '--stuck')).stdout).toContain(id);
        const listed = await cli('dlq', 'list', '--subscriber', subscriber);
        expect(listed.stdout).toContain(letter!.id);
        expect(listed.stdout).toContain('com.ems.resignation.submitted.v1');
        const replayed = await cli('dlq', 'replay', letter!.id);
        expect(replayed.stdout).toContain(`Replayed ${letter!.id}`);
        const fixed = await waitFor(async () => {
          const c = (await getCase(id)).body;
          return c.steps.suspendAccess.status === 'done' && c.status === 'awaiting_decision' ? c : undefined;
        }, 'the replayed reaction to complete the case');
        expect(fixed.status).toBe('awaiting_decision');
        const access = await http<{ items: Array<{ critical: boolean; status: string }> }>(base, 'GET', `/api/employees/${employee.id}/access`);
        for (const item of access.body.items) expect(item.status).toBe(item.critical ? 'suspended' : 'active');
        // Replayed letters leave the open list; a second replay delivers nothing new.
        const open = await http<{ items: Array<{ id: string }> }>(base, 'GET', `/api/dead-letters?subscriber=${subscriber}`);
        expect(open.body.items.map((d) => d.id)).not.toContain(letter!.id);
        expect((await http(base, 'POST', `/api/dead-letters/${letter!.id}/replay`)).status).toBe(200);
        await quiet(1_000);
        expect((await http<{ items: unknown[] }>(base, 'GET', `/api/access-holds?resignationId=${id}`)).body.items).toHaveLength(1);
      }
    });

    it('when a poison event reaches a subscriber, then it is dead-lettered with the reason and the flow keeps working', async () => {
      const subscribers = ['assets.open-recovery-task-when-resignation-submitted', ...(mode === 'choreography' ? ['access.suspend-access-when-resignation-submitted'] : [])];
      for (const subscriber of subscribers) {
        await ems.bus.injectRaw(subscriber, { specversion: '1.0', id: `poison-${subscriber}`, type: 'com.ems.resignation.submitted.v1', data: { resignationId: 'not-a-uuid' } });
        await ems.bus.injectRaw(subscriber, 'this is not even JSON-shaped');
      }
      for (const subscriber of subscribers) {
        const dead = await waitFor(async () => {
          const r = await http<{ items: Array<{ eventId: string | null; reason: string }> }>(base, 'GET', `/api/dead-letters?subscriber=${subscriber}`);
          return r.body.items.length >= 2 ? r.body.items : undefined;
        }, `poison events in ${subscriber}'s dead-letter queue`);
        expect(dead.map((d) => d.reason).join('\n')).toMatch(/invalid/i);
      }
      // The consumers survived: a new resignation completes, and the extension still reacts.
      const employee = takeEmployee();
      const res = await submit({ employeeId: employee.id });
      const done = await settled(res.body.id);
      expect(done.status).toBe('awaiting_decision');
      await waitFor(async () => {
        const tasks = await http<{ items: unknown[] }>(base, 'GET', `/api/asset-recovery-tasks?resignationId=${res.body.id}`);
        return tasks.body.items.length === 1 ? true : undefined;
      }, 'the recovery task of the new case');
    });

    it('when the same resignation event is delivered twice, then nothing happens twice', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      const res = await submit({ employeeId: employee.id });
      await settled(res.body.id);
      await waitFor(async () => ((await http<{ items: unknown[] }>(base, 'GET', `/api/asset-recovery-tasks?resignationId=${res.body.id}`)).body.items.length ? true : undefined), 'the recovery task');
      // The submission event's id is the case id: redeliver exactly that event to every subscriber of it.
      const event = {
        specversion: '1.0',
        id: res.body.id,
        source: '/ems/ems',
        type: 'com.ems.resignation.submitted.v1',
        subject: res.body.id,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        correlationid: res.body.correlationId,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        data: {
          resignationId: res.body.id,
          employee: { id: employee.id, name: employee.name, email: employee.email, timezone: employee.timezone },
          manager: { id: manager.id, name: manager.name, email: manager.email },
          hrPartnerId: employee.hrPartnerId,
          lastWorkingDay: (res.body as unknown as { lastWorkingDay: string }).lastWorkingDay,
          reason: null,
          submittedAt: (res.body as unknown as { submittedAt: string }).submittedAt,
        },
      };
      const subscribers = [
        'assets.open-recovery-task-when-resignation-submitted',
        ...(mode === 'choreography'
          ? ['notification.notify-manager-when-resignation-submitted', 'hr.schedule-interview-when-resignation-submitted', 'access.suspend-access-when-resignation-submitted']
          : []),
      ];
      for (const subscriber of subscribers) {
        await ems.bus.injectRaw(subscriber, event);
        await ems.bus.injectRaw(subscriber, event);
      }
      await quiet(1_500);
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
      expect((await http<{ items: unknown[] }>(base, 'GET', `/api/interviews?resignationId=${res.body.id}`)).body.items).toHaveLength(1);
      expect((await http<{ items: unknown[] }>(base, 'GET', `/api/access-holds?resignationId=${res.body.id}`)).body.items).toHaveLength(1);
      expect((await http<{ items: unknown[] }>(base, 'GET', `/api/asset-recovery-tasks?resignationId=${res.body.id}`)).body.items).toHaveLength(1);
      if (mode === 'choreography') {
        // Each reaction was reported once: one timeline entry per outcome event type.
        const timeline = await http<{ items: Array<{ type: string }> }>(base, 'GET', `/api/resignations/${res.body.id}/timeline`);
        const types = timeline.body.items.map((t) => t.type).filter((t) => t.startsWith('com.ems.'));
        expect(types.length).toBe(new Set(types).size);
      }
      const audit = await http<{ items: unknown[] }>(base, 'GET', `/api/access-audit?employeeId=${employee.id}&limit=500`);
      const criticalGrants = org.grants.filter((g) => g.employeeId === employee.id && critical.has(g.systemId)).length;
      expect(audit.body.items).toHaveLength(criticalGrants);
    });

    it('when a webhook is registered, then matching events of a case are POSTed to it, signed', async () => {
      const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
      const receiver = createServer((req, resp) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          resp.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
        const created = await http<{ id: string; secret: string }>(base, 'POST', '/api/webhooks', {
          url,
          eventTypes: ['com.ems.resignation.submitted.v1', 'com.ems.access.critical-access-suspended.v1'],
        });
        expect(created.status).toBe(201);
        const employee = takeEmployee();
        const res = await submit({ employeeId: employee.id });
        await settled(res.body.id);
        const mine = await waitFor(async () => {
          const got = received.filter((r) => (JSON.parse(r.body) as { subject: string }).subject === res.body.id);
          return got.length >= 2 ? got : undefined;
        }, 'two webhook deliveries for the case');
        expect(mine.map((r) => (JSON.parse(r.body) as { type: string }).type).sort()).toEqual(['com.ems.access.critical-access-suspended.v1', 'com.ems.resignation.submitted.v1']);
        for (const r of mine) {
          expect(verifyWebhookSignature(created.body.secret, r.headers, r.body)).toBe(true);
          expect(verifyWebhookSignature(created.body.secret, r.headers, r.body.replace(res.body.id, '00000000-0000-4000-8000-000000000000'))).toBe(false);
        }
        await http(base, 'DELETE', `/api/webhooks/${created.body.id}`);
      } finally {
        await new Promise((r) => receiver.close(r));
      }
    });

    // The orchestrator calls Notification's HTTP API; choreography has no such call to take away.
    it.runIf(mode === 'orchestration')('when Notification is down for a few seconds, then the case still completes, with exactly one manager email', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      await proxy.down();
      const res = await submit({ employeeId: employee.id });
      expect(res.status).toBe(201);
      // While it is down, the step waits and retries; the other reactions complete.
      const retrying = await waitFor(async () => {
        const c = (await getCase(res.body.id)).body;
        return c.steps.notifyManager.attempts >= 2 && c.steps.suspendAccess.status === 'done' ? c : undefined;
      }, 'retries while Notification is down');
      expect(retrying.steps.notifyManager.status).toBe('pending');
      expect(retrying.steps.notifyManager.lastError).toMatch(/ECONNREFUSED|fetch failed|failed/);
      await sleep(2_000);
      await proxy.up();
      const done = await settled(res.body.id);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(done.status).toBe('awaiting_decision');
      await quiet();
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
    });

    it('when the CLI submits a resignation, then it shows the case with its steps done and its timeline, and lists cases and emails', async () => {
      const employee = takeEmployee();
      // The employee signed in (EMS_TOKEN: their access token); the mailbox is the operator's.
      const as = (person: string) => async (...args: string[]) => execFileAsync(process.execPath, [CLI, ...args], { env: { ...process.env, EMS_URL: base, EMS_TOKEN: await tokenFor(base, person) }, timeout: 60_000 });
      const ems = as(employee.id);
      const resign = await ems('resign', employee.id, '--reason', 'CLI test');
      expect(resign.stdout).toContain(`submitted for ${employee.name}`);
      const id = /Resignation ([0-9a-f-]{36}) submitted/.exec(resign.stdout)![1]!;
      for (const step of ['notifyManager', 'scheduleInterview', 'suspendAccess']) expect(resign.stdout).toMatch(new RegExp(`✔ ${step}\\s+done`));
      // The status shown agrees with the timeline shown with it.
      expect(resign.stdout).toContain('status: awaiting_decision');
      expect(resign.stdout).toContain('Critical access suspended');
      const shown = await ems('case', id);
      expect(shown.stdout).toContain(`status: awaiting_decision`);
      expect(shown.stdout).toMatch(/notification\s+Manager .* notified by email/);
      expect((await ems('cases')).stdout).toContain(id);
      expect((await as(OPERATOR)('emails', '--case', id)).stdout).toContain(managerOf(employee).email);
      const again = await ems('resign', employee.id).catch((err: { code: number; stderr: string }) => err);
      expect(again).toMatchObject({ code: 1 });
      expect((again as { stderr: string }).stderr).toContain('409');
    });

    it.runIf(mode === 'orchestration')('when Notification acts but its answer is lost, then the retry does not send a second email', async () => {
      const employee = takeEmployee();
      const manager = managerOf(employee);
      proxy.loseAnswers(2);
      const lostBefore = proxy.lostAnswers();
      const res = await submit({ employeeId: employee.id });
      const done = await settled(res.body.id);
      expect(done.steps.notifyManager.status).toBe('done');
      expect(proxy.lostAnswers() - lostBefore).toBeGreaterThanOrEqual(1);
      await quiet();
      expect(mailsTo(manager.email).filter((m) => m.subject?.includes(employee.name))).toHaveLength(1);
      expect(Number((await ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM notification.emails WHERE resignation_id = $1 AND purpose = 'manager-notice'`, [res.body.id])).rows[0]!.n)).toBe(1);
    });
  });
}
