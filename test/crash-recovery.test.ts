/**
 * Nothing is lost, nothing is done twice — tested by killing the process. EMS runs as a real child
 * process; while cases are mid-flight (Notification unreachable, steps retrying) it is killed with
 * SIGKILL, then started again: DBOS recovers every pending workflow and each case completes with
 * exactly one manager email.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { freePort } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { startProxy, type Proxy } from './support/proxy.ts';
import { requestJson as http } from '@ems/platform/testing';
import { sleep, waitFor } from '@ems/platform/testing';

const BIN = path.resolve(import.meta.dirname, '../packages/ems/bin/ems.mjs');

describe('crash recovery (orchestration)', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let proxy: Proxy;
  let port: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'crash');
    smtp = await startSmtpSink();
    port = await freePort();
    proxy = await startProxy(() => port, await freePort());
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await proxy?.stop();
    await smtp?.stop();
    await db?.drop();
  });

  function startProcess(): { child: ChildProcess; output: () => string } {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      EMS_NOTIFICATION_URL: proxy.url,
      EMS_STEP_RETRY_INTERVAL_MS: '200',
      EMS_LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    return { child, output: () => out };
  }

  it('when the process is killed mid-flight and restarted, then every case completes with exactly one manager email', async () => {
    const org = demoOrg();
    const employees = org.employees.filter((e) => e.managerId).slice(10, 16);
    const base = `http://127.0.0.1:${port}`;

    await proxy.down();
    const first = startProcess();
    await waitFor(async () => (first.output().includes('EMS is up') ? true : undefined), 'the first process to start', 60_000);
    const ids: string[] = [];
    for (const e of employees) {
      const res = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: e.id });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // Mid-flight: access already suspended, the manager email still retrying against a dead Notification.
    await waitFor(async () => {
      const cases = await Promise.all(ids.map((id) => http<{ steps: Record<string, { status: string; attempts: number }> }>(base, 'GET', `/api/resignations/${id}`)));
      return cases.every((c) => c.body.steps.blockAccess!.status === 'done' && c.body.steps.notifyManager!.attempts >= 1) ? true : undefined;
    }, 'cases to be mid-flight');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    await proxy.up();
    const second = startProcess();
    await waitFor(async () => (second.output().includes('EMS is up') ? true : undefined), 'the second process to start', 60_000);
    const recoveredAt = Date.now();
    for (const id of ids) {
      const done = await waitFor(async () => {
        const c = await http<{ status: string; steps: Record<string, { status: string }> }>(base, 'GET', `/api/resignations/${id}`);
        return c.body.status !== 'in_progress' ? c.body : undefined;
      }, `case ${id} to complete after the restart`, 60_000);
      expect(done.status).toBe('awaiting_decision');
    }
    expect(Date.now() - recoveredAt).toBeLessThan(60_000);
    await sleep(500);
    for (const e of employees) {
      const manager = org.employees.find((m) => m.id === e.managerId)!;
      const notices = smtp.messages.filter((m) => m.subject?.includes(e.name) && smtp.envelopes[smtp.messages.indexOf(m)]!.includes(manager.email));
      expect(notices, `manager notices about ${e.name}`).toHaveLength(1);
    }
    second.child.kill('SIGTERM');
    expect(await new Promise((r) => second.child.once('exit', (c) => r(c)))).toBe(0);
  });
});
