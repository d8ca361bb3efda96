/**
 * The NATS bus resumes what a killed process held at once (issue 12, defect 16). Access's handler is caught
 * in flight — blocked on a row lock this test holds — and the process is killed with SIGKILL. JetStream
 * keeps the message the dead process held until its ack_wait runs out (EMS_NATS_ACK_WAIT; 2 minutes here,
 * so "resumed when the ack wait ended" cannot pass for "resumed at once"). After a restart, access must be
 * suspended before that wait could have ended — compared on the timestamps EMS recorded (the case's
 * submission, the step done), not on how long the test waited.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { demoOrg } from '@ems/demo-org';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { natsTestUrl, removeNatsStreams, testNatsPrefix } from '@ems/eventbus/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses, type EmsProcess } from './support/ems-process.ts';

interface CaseBody {
  id: string;
  submittedAt: string;
  steps: Record<string, { status: string; at: string | null } | undefined>;
}

const ACK_WAIT_MS = 120_000;

describe('resuming after a kill, on NATS', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let port: number;
  const prefix = testNatsPrefix('resumekill');
  const processes = emsProcesses();
  const employee = demoOrg().employees.filter((e) => e.managerId)[52]!;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'resumekill_nats');
    smtp = await startSmtpSink();
    port = await freePort();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await removeNatsStreams(natsTestUrl(), prefix).catch(() => undefined);
    await db?.drop();
  });

  const base = () => `http://127.0.0.1:${port}`;
  const start = (): Promise<EmsProcess> =>
    processes.start({
      EMS_MODE: 'choreography',
      EMS_BUS: 'nats',
      EMS_NATS_URL: natsTestUrl(),
      EMS_NATS_PREFIX: prefix,
      EMS_NATS_ACK_WAIT: `${ACK_WAIT_MS / 1000}s`,
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });

  it('when the process is killed while suspending critical access (choreography), then after a restart access is suspended before the message it held would have come back', async () => {
    const first = await start();
    // Access's handler will wait for this employee's identity row: the message is in its hands.
    const locker = new pg.Client({ connectionString: db.url, application_name: 'resume-test-lock' });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT employee_id FROM access.identities WHERE employee_id = $1 FOR UPDATE', [employee.id]);
    const submitted = await http<CaseBody>(base(), 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    // The marker: a connection of EMS waits for the lock on access.identities (the handler is in flight).
    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    try {
      await waitFor(async () => {
        const { rows } = await probe.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND application_name <> 'resume-test-lock' AND query ILIKE '%identities%'`,
          [db.name],
        );
        return rows.length ? true : undefined;
      }, 'the suspension to be in flight');
    } finally {
      await probe.end();
    }

    await first.kill();
    await locker.query('ROLLBACK');
    await locker.end();
    const restarted = Date.now();
    const second = await start();
    const up = Date.now();
    const done = await waitFor(async () => {
      const c = (await http<CaseBody>(base(), 'GET', `/api/resignations/${submitted.body.id}`)).body;
      return c.steps.suspendAccess?.status === 'done' ? c : undefined;
    }, 'critical access suspended after the restart', ACK_WAIT_MS + 30_000);
    // The message was delivered after the submission: held under ack_wait, it could not have come back before this.
    const earliestRedelivery = Date.parse(done.submittedAt) + ACK_WAIT_MS;
    expect(Date.parse(done.steps.suspendAccess!.at!)).toBeLessThan(earliestRedelivery);
    const at = Date.parse(done.steps.suspendAccess!.at!);
    console.log(`NATS: critical access suspended ${((at - restarted) / 1000).toFixed(1)} s after the restart began, ${((at - up) / 1000).toFixed(1)} s after it was up (${((at - Date.parse(done.submittedAt)) / 1000).toFixed(1)} s after submission; ack wait ${ACK_WAIT_MS / 1000} s)`);
    expect(await second.stop()).toBe(0);
  }, ACK_WAIT_MS + 120_000);
});
