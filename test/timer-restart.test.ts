/**
 * A pending timer survives the death of the process that set it, in both modes. EMS runs as a real
 * child process on a shifted clock (EMS_CLOCK_OFFSET); the exit is confirmed for tomorrow, the process
 * is killed with SIGKILL, and restarted with the clock moved to just before the end of that day. The
 * revocation must fire by itself — after the end of the day, not before — exactly once.
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
  closedAt: string | null;
  decision: { revokeAt: string | null } | null;
  steps: Record<string, { status: string; at: string | null } | undefined>;
}

describe.each(['orchestration', 'choreography'] as const)('timers across a kill (%s)', (mode) => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let port: number;
  const processes = emsProcesses();
  const org = demoOrg();

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), `timer${mode.slice(0, 5)}`);
    smtp = await startSmtpSink();
    port = await freePort();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  /** `undefined`: the system clock, as in production (no EMS_CLOCK_OFFSET at all). */
  const startProcess = (clockOffsetSeconds: number | undefined): Promise<EmsProcess> =>
    processes.start({
      EMS_MODE: mode,
      EMS_PORT: String(port),
      EMS_DATABASE_URL: db.url,
      EMS_SMTP_URL: smtp.url,
      ...(clockOffsetSeconds === undefined ? {} : { EMS_CLOCK_OFFSET: `${clockOffsetSeconds}s` }),
      EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
    });
  const base = () => `http://127.0.0.1:${port}`;
  const getCase = async (id: string) => (await http<CaseBody>(base(), 'GET', `/api/resignations/${id}`)).body;
  const accessOf = async (employeeId: string) => (await http<{ items: Array<{ status: string; critical: boolean }> }>(base(), 'GET', `/api/employees/${employeeId}/access`)).body.items;

  /** A case of `employee`, its exit confirmed with tomorrow — or the next working day of theirs after it — as the last day. */
  async function exitConfirmedForTomorrow(employee: (typeof org.employees)[number]): Promise<{ submitted: { body: CaseBody }; revokeAt: number }> {
    const submitted = await http<CaseBody>(base(), 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    await waitFor(async () => ((await getCase(submitted.body.id)).status === 'awaiting_decision' ? true : undefined), 'the case to await its decision');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: employee.timezone }).format(new Date());
    const next = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    let lastDay = next(today);
    while (!employee.workingHours.days.includes(((new Date(`${lastDay}T00:00:00Z`).getUTCDay() + 6) % 7) + 1)) lastDay = next(lastDay);
    const decided = await http<CaseBody>(base(), 'POST', `/api/resignations/${submitted.body.id}/decision`, { decision: 'exit_confirmed', lastWorkingDay: lastDay });
    expect(decided.status).toBe(200);
    return { submitted, revokeAt: Date.parse(decided.body.decision!.revokeAt!) };
  }

  it('when the process dies with a revocation pending, then after a restart the revocation fires at the end of the last day — not before, once', async () => {
    const employee = org.employees.filter((e) => e.managerId)[mode === 'orchestration' ? 40 : 41]!;
    const first = await startProcess(0);
    const { submitted, revokeAt } = await exitConfirmedForTomorrow(employee);

    await first.kill();

    // Restart 25 s (of clock time) before the end of the last working day.
    const offset = Math.round((revokeAt - Date.now()) / 1000) - 25;
    const second = await startProcess(offset);
    const atRestart = await getCase(submitted.body.id);
    expect(atRestart.status).toBe('exit_confirmed');
    expect((await accessOf(employee.id)).some((i) => i.status !== 'revoked')).toBe(true);

    const exited = await waitFor(
      async () => {
        const c = await getCase(submitted.body.id);
        return c.status === 'exited' && c.closedAt ? c : undefined;
      },
      'the revocation to fire after the restart',
      90_000,
    );
    // It fired by the shifted clock's reckoning at or after the end of the day.
    expect(Date.parse(exited.steps.revokeAccess!.at!)).toBeGreaterThanOrEqual(revokeAt);
    expect((await accessOf(employee.id)).every((i) => i.status === 'revoked')).toBe(true);
    const audit = await http<{ items: Array<{ to: string; grantId: string }> }>(base(), 'GET', `/api/access-audit?employeeId=${employee.id}&limit=500`);
    const revocations = audit.body.items.filter((a) => a.to === 'revoked');
    // Each grant revoked exactly once.
    expect(new Set(revocations.map((a) => a.grantId)).size).toBe(revocations.length);
    expect(await second.stop()).toBe(0);
  }, 240_000);

  it('when a timer set on the system clock is waiting and the process restarts on a shifted clock, then the timer follows the shifted clock', async () => {
    const employee = org.employees.filter((e) => e.managerId)[mode === 'orchestration' ? 42 : 43]!;
    // The system clock: a wait until the end of tomorrow is one long wait (up to a day), kept by DBOS across restarts.
    const first = await startProcess(undefined);
    const { submitted, revokeAt } = await exitConfirmedForTomorrow(employee);
    if (mode === 'orchestration') {
      // Killed only once the workflow waits for the end of the day, after announcing the decision: its long
      // timeout is on record (DBOS keeps that deadline across restarts).
      await waitFor(async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM dbos.operation_outputs o
              WHERE o.workflow_uuid = $1 AND o.function_name = 'DBOS.sleep' AND o.output::numeric > extract(epoch FROM now()) * 1000 + 3600000
                AND o.function_id > (SELECT max(a.function_id) FROM dbos.operation_outputs a WHERE a.workflow_uuid = $1 AND a.function_name LIKE 'announceDecision%')`,
            [submitted.body.id],
          );
          return rows[0]!.n > 0 ? true : undefined;
        } finally {
          await client.end();
        }
      }, 'the workflow to wait for the end of the last day');
    }
    await first.kill();

    // A drill: the clock moved past the end of the last day. The waiting timer must see it.
    const second = await startProcess(Math.round((revokeAt - Date.now()) / 1000) + 5);
    const exited = await waitFor(
      async () => {
        const c = await getCase(submitted.body.id);
        return c.status === 'exited' && c.closedAt ? c : undefined;
      },
      'the revocation to fire on the shifted clock',
      90_000,
    );
    expect(Date.parse(exited.steps.revokeAccess!.at!)).toBeGreaterThanOrEqual(revokeAt);
    expect((await accessOf(employee.id)).every((i) => i.status === 'revoked')).toBe(true);
    expect(await second.stop()).toBe(0);
  }, 240_000);
});
