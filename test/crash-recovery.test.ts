/**
 * Nothing is lost, nothing is done twice — tested by killing the process, in both modes. EMS runs as
 * a real child process and is killed with SIGKILL (1) while cases wait on a mail server that is down,
 * and (2) right after a burst of submissions, with workflows or events in flight. After a restart
 * every case completes with exactly one manager email (counted at the SMTP server).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses, type EmsProcess } from './support/ems-process.ts';
import { randomUUID } from 'node:crypto';
import { createPool, systemClock } from '@ems/platform';
import { createCaseStore } from '../packages/ems/src/resignations/case-store.ts';
import { caseDraft } from './support/case-draft.ts';
import { createEmsDb } from '../packages/ems/src/ems.service.ts';

describe.each(['orchestration', 'choreography'] as const)('crash recovery (%s)', (mode) => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let port: number;
  const processes = emsProcesses();
  const org = demoOrg();

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), `crash${mode.slice(0, 5)}`);
    smtp = await startSmtpSink();
    port = await freePort();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  const startProcess = (): Promise<EmsProcess> =>
    processes.start({
      EMS_MODE: mode,
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      EMS_SMTP_RETRY_BASE_MS: '200',
      EMS_STEP_RETRY_INTERVAL_MS: '200',
      EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });
  const kill = (p: EmsProcess) => p.kill();
  const base = () => `http://127.0.0.1:${port}`;
  const submitAll = async (employees: Employee[]) => {
    const ids: string[] = [];
    for (const e of employees) {
      const res = await http<{ id: string }>(base(), 'POST', '/api/resignations', { employeeId: e.id });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    return ids;
  };
  const allComplete = async (ids: string[]) => {
    for (const id of ids) {
      const done = await waitFor(async () => {
        const c = await http<{ status: string }>(base(), 'GET', `/api/resignations/${id}`);
        return c.body.status !== 'in_progress' ? c.body : undefined;
      }, `case ${id} to complete after the restart`, 150_000);
      expect(done.status).toBe('awaiting_decision');
    }
  };
  /**
   * Barrier: every email of these cases has left Notification's queue (sent or failed; `sent` only after the
   * SMTP server said 250): a second notice would be a row of its own, written before its case completed,
   * so after this the SMTP sink has everything these cases will ever send.
   */
  const emailsSettled = (ids: string[]) =>
    waitFor(async () => {
      for (const id of ids) {
        const emails = (await http<{ items: Array<{ status: string }> }>(base(), 'GET', `/api/emails?resignationId=${id}&limit=50`)).body.items;
        if (emails.some((m) => m.status === 'queued')) return undefined;
      }
      return true;
    }, 'every email of the cases to have left the queue', 60_000);
  /**
   * One manager notice per case. `strict`: exactly one SMTP delivery. Otherwise a kill can land between
   * the SMTP server's "250 OK" and the process recording "sent" — no sender can close that window — so
   * the notice may reach the server twice, but as the same message (same Message-ID) for the receiver
   * to deduplicate; anything else (a second, different notice) fails.
   */
  const expectOneNoticeEach = (employees: Employee[], strict: boolean) => {
    let resent = 0;
    for (const e of employees) {
      const manager = org.employees.find((m) => m.id === e.managerId)!;
      const notices = smtp.messages.filter((m, i) => m.subject?.includes(e.name) && smtp.envelopes[i]!.includes(manager.email));
      if (strict) expect(notices, `manager notices about ${e.name}`).toHaveLength(1);
      expect(new Set(notices.map((m) => m.messageId)), `distinct manager notices about ${e.name}`).toHaveProperty('size', 1);
      resent += notices.length - 1;
    }
    if (resent) console.info(`${mode}: ${resent} notice(s) of ${employees.length} reached the SMTP server twice (same Message-ID) after the kill`);
  };

  it('when the process is killed while cases wait on a dead mail server, then after a restart every case completes with one manager email', async () => {
    const employees = org.employees.filter((e) => e.managerId).slice(10, 16);
    await smtp.down();
    const first = await startProcess();
    const ids = await submitAll(employees);
    await waitFor(async () => {
      const cases = await Promise.all(ids.map((id) => http<{ steps: Record<string, { status: string }> }>(base(), 'GET', `/api/resignations/${id}`)));
      return cases.every((c) => c.body.steps.suspendAccess!.status === 'done' && c.body.steps.scheduleInterview!.status === 'done') ? true : undefined;
    }, 'cases to be mid-flight');
    await kill(first);
    await smtp.up();
    const second = await startProcess();
    await allComplete(ids);
    await emailsSettled(ids);
    // The mail server was down when the process died: no delivery was in flight, so strictly one each.
    expectOneNoticeEach(employees, true);
    expect(await second.stop()).toBe(0);
  }, 180_000);

  it('when the process is killed right after a burst of submissions, then after a restart every case completes exactly once', async () => {
    const employees = org.employees.filter((e) => e.managerId).slice(20, 32);
    const first = await startProcess();
    const ids = await submitAll(employees);
    await kill(first);
    const second = await startProcess();
    await allComplete(ids);
    await emailsSettled(ids);
    expectOneNoticeEach(employees, false);
    for (const id of ids) {
      expect((await http<{ items: unknown[] }>(base(), 'GET', `/api/emails?resignationId=${id}`)).body.items.filter((m) => (m as { purpose: string }).purpose === 'manager-notice')).toHaveLength(1);
      expect((await http<{ items: unknown[] }>(base(), 'GET', `/api/interviews?resignationId=${id}`)).body.items).toHaveLength(1);
      expect((await http<{ items: unknown[] }>(base(), 'GET', `/api/access-holds?resignationId=${id}`)).body.items).toHaveLength(1);
    }
    await kill(second);
    // An email the killed process had claimed is sent again only when its claim's lease (about a minute) runs out.
  }, 180_000);

  it.runIf(mode === 'orchestration')('when the process died between opening a case and starting its workflow, then a restarted EMS starts the workflow and the case completes once', async () => {
    const employee = org.employees.filter((e) => e.managerId)[40]!;
    const manager = org.employees.find((m) => m.id === employee.managerId)!;
    // The case as the request opened it (a minute ago), with no workflow: the process died right after the commit.
    const pool = createPool(db.url, { max: 2 });
    const id = randomUUID();
    try {
      const store = createCaseStore(createEmsDb(pool), systemClock, { stepDeadlineSeconds: 60 });
      const opened = await store.open(
        caseDraft(employee.id, {
          id,
          employee: { id: employee.id, name: employee.name, email: employee.email, timezone: employee.timezone },
          manager: { id: manager.id, name: manager.name, email: manager.email },
          hrPartnerId: employee.hrPartnerId,
          lastWorkingDay: new Date(Date.now() + 28 * 86_400_000).toISOString().slice(0, 10),
          submittedAt: new Date(Date.now() - 60_000).toISOString(),
        }),
      );
      expect(opened.outcome).toBe('created');
    } finally {
      await pool.end();
    }
    const restarted = await startProcess();
    await allComplete([id]);
    expectOneNoticeEach([employee], true);
    expect((await http<{ items: unknown[] }>(base(), 'GET', `/api/access-holds?resignationId=${id}`)).body.items).toHaveLength(1);
    await kill(restarted);
  }, 180_000);
});
