/**
 * Orchestration across replicas: two EMS processes share one database and DBOS system schema. Cases
 * are submitted to replica A while mail is down (so their workflows are mid-flight), A is killed with
 * SIGKILL and never restarted; replica B notices A's silence and resumes A's workflows. Every case then
 * completes on B, with one manager email each, and its decision phase runs on B too.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses, type EmsProcess } from './support/ems-process.ts';

describe('orchestration across replicas', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const processes = emsProcesses();
  const org = demoOrg();

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'replicas');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  // Replicas share one public URL (the address of the whole deployment): their built-in providers, one issuer.
  const startReplica = (id: string, port: number, publicUrl: string): Promise<EmsProcess> =>
    processes.start({
      EMS_PUBLIC_URL: publicUrl,
      EMS_MODE: 'orchestration',
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      EMS_SMTP_RETRY_BASE_MS: '200',
      EMS_STEP_RETRY_INTERVAL_MS: '200',
      EMS_STEP_MAX_ATTEMPTS: '30',
      EMS_REPLICA_ID: id,
      EMS_REPLICA_DEAD_AFTER: '4s',
      EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });

  it('when the replica running the workflows is killed for good, then the other replica finishes them, once', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    await smtp.down();
    const a = await startReplica('replica-a', portA, `http://127.0.0.1:${portA}`);
    const b = await startReplica('replica-b', portB, `http://127.0.0.1:${portA}`);
    const baseA = `http://127.0.0.1:${portA}`;
    const baseB = `http://127.0.0.1:${portB}`;

    const employees = org.employees.filter((e) => e.managerId).slice(2, 8);
    const ids: string[] = [];
    for (const e of employees) {
      const res = await http<{ id: string }>(baseA, 'POST', '/api/resignations', { employeeId: e.id });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // Mid-flight: interviews and holds done, the manager emails waiting for the mail server.
    await waitFor(async () => {
      const cases = await Promise.all(ids.map((id) => http<{ steps: Record<string, { status: string }> }>(baseA, 'GET', `/api/resignations/${id}`)));
      return cases.every((c) => c.body.steps.suspendAccess!.status === 'done' && c.body.steps.scheduleInterview!.status === 'done' && c.body.steps.notifyManager!.status !== 'done') ? true : undefined;
    }, 'cases to be mid-flight on replica A');

    await a.kill();
    await smtp.up();
    const killedAt = Date.now();

    for (const id of ids) {
      const done = await waitFor(async () => {
        const c = await http<{ status: string }>(baseB, 'GET', `/api/resignations/${id}`);
        return c.body.status !== 'in_progress' ? c.body : undefined;
      }, `case ${id} to complete on replica B`, 150_000);
      expect(done.status).toBe('awaiting_decision');
    }
    console.info(`replicas: ${ids.length} cases finished on B ${Math.round((Date.now() - killedAt) / 1000)} s after A was killed`);
    for (const e of employees) {
      const manager = org.employees.find((m) => m.id === e.managerId)!;
      const notices = smtp.messages.filter((m, i) => m.subject?.includes(e.name) && smtp.envelopes[i]!.includes(manager.email));
      expect(notices, `manager notices about ${e.name}`).toHaveLength(1);
    }
    // The decision phase of a case A started now answers on B.
    const decided = await http<{ status: string }>(baseB, 'POST', `/api/resignations/${ids[0]}/decision`, { decision: 'retained' });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('retained');
    expect(await b.stop()).toBe(0);
  }, 240_000);
});
