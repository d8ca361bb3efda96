/**
 * A restarted process resumes what it held at once (issue 12, defect 16). A reaction is caught in flight —
 * its handler or its delivery blocked on a row lock this test holds — and the process is killed with
 * SIGKILL. Before, what the dead process held came back only when its lease ran out: a bus delivery after
 * the handler timeout (the person kept their critical access for over a minute), an interview invite after
 * its one-minute reservation. After a restart it must be done before that lease would have ended — compared
 * on the timestamps PostgreSQL and the services recorded, not on how long the test waited.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { demoOrg } from '@ems/demo-org';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses, type EmsProcess } from './support/ems-process.ts';

interface CaseBody {
  id: string;
  status: string;
  steps: Record<string, { status: string; at: string | null } | undefined>;
}

describe('resuming after a kill', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let port: number;
  const processes = emsProcesses();
  const org = demoOrg();
  const employees = org.employees.filter((e) => e.managerId);

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'resumekill');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  const base = () => `http://127.0.0.1:${port}`;
  const start = (mode: 'orchestration' | 'choreography'): Promise<EmsProcess> =>
    processes.start({
      EMS_MODE: mode,
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      // A long lease, so "resumed when the lease ended" cannot pass for "resumed at once".
      EMS_BUS_HANDLER_TIMEOUT: '10m',
      EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });
  const getCase = async (id: string) => (await http<CaseBody>(base(), 'GET', `/api/resignations/${id}`)).body;
  /** A connection of the test's own, holding a lock in an open transaction until `release`. */
  async function holdLock(statement: string, params: unknown[]): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query(statement, params);
    return {
      async release() {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }
  const query = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<R>(text, params)).rows;
    } finally {
      await client.end();
    }
  };

  it('when the process is killed while suspending critical access (choreography), then after a restart access is suspended before the delivery it held would have come back', async () => {
    port = await freePort();
    const employee = employees[50]!;
    const first = await start('choreography');
    // Access's handler will wait for this employee's identity row: the delivery is in flight.
    const lock = await holdLock('SELECT employee_id FROM access.identities WHERE employee_id = $1 FOR UPDATE', [employee.id]);
    const submitted = await http<CaseBody>(base(), 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const held = await waitFor(async () => {
      const rows = await query<{ lease_end: Date }>(
        `SELECT started_on + expire_seconds * interval '1 second' AS lease_end FROM bus.job
          WHERE name = 'access.suspend-access-when-resignation-submitted' AND state = 'active' AND data::text LIKE '%' || $1 || '%'`,
        [submitted.body.id],
      );
      return rows[0];
    }, 'the suspension to be in flight');

    await first.kill();
    await lock.release();
    const second = await start('choreography');
    const done = await waitFor(async () => {
      const c = await getCase(submitted.body.id);
      return c.steps.suspendAccess?.status === 'done' ? c : undefined;
    }, 'critical access suspended after the restart', 120_000);
    expect(Date.parse(done.steps.suspendAccess!.at!)).toBeLessThan(held.lease_end.getTime());
    expect(await second.stop()).toBe(0);
  }, 240_000);

  it('when the process is killed while an interview invite is being delivered (orchestration), then after a restart the invite goes out before its reservation would have ended', async () => {
    port = await freePort();
    const employee = employees[51]!;
    const first = await start('orchestration');
    // No email can be stored while the test holds this: the invite's delivery is stuck mid-call.
    const lock = await holdLock('LOCK TABLE notification.emails IN EXCLUSIVE MODE', []);
    const submitted = await http<CaseBody>(base(), 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const leased = await waitFor(async () => {
      const rows = await query<{ lease_end: Date }>(
        `SELECT max(next_attempt_at) AS lease_end FROM hr.outbox
          WHERE request->>'resignationId' = $1 AND status = 'pending' AND attempts >= 1 AND next_attempt_at > now()
          HAVING count(*) > 0`,
        [submitted.body.id],
      );
      return rows[0];
    }, 'the interview invites to be in delivery');

    await first.kill();
    await lock.release();
    const second = await start('orchestration');
    const sent = await waitFor(async () => {
      const rows = await query<{ sent_at: Date | null; status: string }>(`SELECT status, sent_at FROM hr.outbox WHERE request->>'resignationId' = $1`, [submitted.body.id]);
      return rows.length > 0 && rows.every((r) => r.status === 'sent') ? rows : undefined;
    }, 'the invites delivered after the restart', 120_000);
    for (const r of sent) expect(r.sent_at!.getTime()).toBeLessThan(leased.lease_end.getTime());
    expect(await second.stop()).toBe(0);
  }, 240_000);
});
