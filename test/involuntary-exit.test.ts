/**
 * An involuntary exit of one person, in both modes, through the real API: EMS, Access and Notification on a
 * real PostgreSQL, the real bus, a real SMTP sink. HR (hr_lead only) ends the employment: every grant is
 * suspended, manager and employee are told only after that, access is revoked at the instant given.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { ems } from '@ems/contracts';
import { employeePicker, http, HR_LEAD, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();

describe.each(['orchestration', 'choreography'] as const)('an involuntary exit (%s)', (mode) => {
  let env: AcceptanceEnv;
  let base: string;
  /** When each message reached the SMTP sink, by recipient. */
  const arrivals: Array<{ to: string; subject: string; at: number }> = [];
  const picker = employeePicker(org);
  const as = async (person: string) => ({ authorization: `Bearer ${await tokenFor(base, person)}` });
  const start = (body: unknown, key = randomUUID(), person = HR_LEAD) => as(person).then((h) => http<ems.ExitsStarted & { errors?: ems.ExitRowError[]; type?: string }>(base, 'POST', ems.EmsPaths.exits, body, { ...h, 'idempotency-key': key }));
  const progress = (id: string) => http<ems.ExitBatch>(base, 'GET', ems.EmsPaths.exit(id)).then((r) => r.body);
  const sql = <T extends Record<string, unknown>>(text: string, values: unknown[] = []) => env.ems.pool.query<T>(text, values).then((r) => r.rows);

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `involuntary_exit_${mode}`);
    base = env.base;
    const push = env.smtp.messages.push.bind(env.smtp.messages);
    env.smtp.messages.push = (...mails) => {
      for (const m of mails) {
        const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
        for (const t of to.flatMap((x) => x.value)) arrivals.push({ to: t.address ?? '', subject: m.subject ?? '', at: Date.now() });
      }
      return push(...mails);
    };
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when HR exits one person, then every grant is suspended, manager and employee are told after it, and every grant is revoked at the instant given', async () => {
    const e: Employee = picker.takeEmployee();
    const manager = picker.managerOf(e);
    const revokeAt = new Date(Date.now() + 8_000).toISOString();
    const started = await start({ employees: [{ employeeId: e.id }], reason: 'misconduct', revokeAt, note: 'gross misconduct, see file 12' });
    expect(started.status).toBe(202);
    expect(started.body.total).toBe(1);

    const settled = await waitFor(async () => {
      const p = await progress(started.body.id);
      return p.settled ? p : undefined;
    }, 'the exit to settle', 30_000);
    expect(settled).toMatchObject({ total: 1, accessSuspended: 1, noticesSent: 1, revocationsScheduled: 1, failed: 0, reason: 'misconduct', mode });
    const caseId = settled.cases.items[0]!.resignationId;

    const kase = (await http<ems.Resignation>(base, 'GET', ems.EmsPaths.resignation(caseId))).body;
    expect(kase).toMatchObject({ kind: 'involuntary', batchId: started.body.id, employeeId: e.id, status: 'exit_confirmed', mode });
    expect(kase.decision).toMatchObject({ decision: 'exit_confirmed', revokeAt: new Date(revokeAt).toISOString(), note: 'gross misconduct, see file 12' });
    expect(kase.steps.notifyManager).toBeUndefined();
    expect(kase.steps.scheduleInterview).toBeUndefined();
    expect(kase.steps.suspendAccess.status).toBe('done');
    expect(kase.steps.announceDecision?.status).toBe('done');

    // Every grant (not only the critical ones) is suspended, by the exit's hold.
    const grants = await sql<{ status: string }>('SELECT status FROM access.grants WHERE employee_id = $1', [e.id]);
    expect(grants.length).toBeGreaterThan(1);
    expect(grants.every((g) => g.status === 'suspended')).toBe(true);
    const [hold] = await sql<{ created_at: Date }>('SELECT created_at FROM access.holds WHERE resignation_id = $1', [caseId]);
    expect(hold).toBeDefined();

    // Manager and employee told, each after the suspension was committed.
    const told = await waitFor(() => {
      const mine = arrivals.filter((a) => a.to === e.email || a.to === manager.email);
      return mine.length >= 2 ? mine : undefined;
    }, 'both notices at the SMTP sink');
    expect(new Set(told.map((t) => t.to))).toEqual(new Set([e.email, manager.email]));
    for (const t of told) expect(t.at).toBeGreaterThanOrEqual(hold!.created_at.getTime());

    // At revokeAt, Access revokes every grant; the case becomes exited and closes.
    const exited = await waitFor(async () => {
      const c = (await http<ems.Resignation>(base, 'GET', ems.EmsPaths.resignation(caseId))).body;
      return c.status === 'exited' && c.closedAt ? c : undefined;
    }, 'the case to become exited', 40_000);
    expect(exited.steps.revokeAccess?.status).toBe('done');
    const [revocation] = await sql<{ done_at: Date; revoke_at: Date }>("SELECT done_at, revoke_at FROM access.revocations WHERE resignation_id = $1 AND status = 'done'", [caseId]);
    expect(revocation!.revoke_at.toISOString()).toBe(new Date(revokeAt).toISOString());
    expect(revocation!.done_at.getTime()).toBeGreaterThanOrEqual(Date.parse(revokeAt));
    const after = await sql<{ status: string }>('SELECT status FROM access.grants WHERE employee_id = $1', [e.id]);
    expect(after.every((g) => g.status === 'revoked')).toBe(true);
    const timeline = (await http<{ items: ems.TimelineEntry[] }>(base, 'GET', ems.EmsPaths.timeline(caseId))).body.items.map((i) => i.type);
    expect(timeline).toEqual(expect.arrayContaining(['exit.involuntary-started', 'com.ems.access.exit-access-suspended.v1', 'com.ems.notification.exit-notices-sent.v1', 'case.exited']));
  }, 90_000);

  it('when an involuntary case is decided or withdrawn, then it is refused with 409 and nothing changes', async () => {
    const e = picker.takeEmployee();
    const started = await start({ employees: [{ employeeId: e.id }], reason: 'redundancy' });
    expect(started.status).toBe(202);
    const p = await waitFor(async () => {
      const x = await progress(started.body.id);
      return x.settled ? x : undefined;
    }, 'the exit to settle', 30_000);
    const caseId = p.cases.items[0]!.resignationId;
    const decided = await http<{ type: string }>(base, 'POST', ems.EmsPaths.decision(caseId), { decision: 'retained' });
    expect(decided.status).toBe(409);
    expect(decided.body.type).toBe(ems.EmsProblemTypes.involuntaryCase);
    const withdrawn = await http<{ type: string }>(base, 'POST', ems.EmsPaths.withdrawal(caseId), {});
    expect(withdrawn.status).toBe(409);
    expect(withdrawn.body.type).toBe(ems.EmsProblemTypes.involuntaryCase);
    const kase = (await http<ems.Resignation>(base, 'GET', ems.EmsPaths.resignation(caseId))).body;
    expect(kase.status).toBe('exit_confirmed');
    expect(kase.decision?.decision).toBe('exit_confirmed');
  }, 60_000);

  it('when someone other than the HR lead starts an exit or reads its progress, then it is 403', async () => {
    const e = picker.takeEmployee();
    const partner = e.hrPartnerId;
    const refused = await start({ employees: [{ employeeId: e.id }], reason: 'performance' }, randomUUID(), partner);
    expect(refused.status).toBe(403);
    const byManager = await start({ employees: [{ employeeId: e.id }], reason: 'performance' }, randomUUID(), e.managerId!);
    expect(byManager.status).toBe(403);
    const cases = (await http<{ items: ems.Resignation[] }>(base, 'GET', `${ems.EmsPaths.resignations}?employeeId=${e.id}`)).body;
    expect(cases.items).toHaveLength(0);
    const read = await http(base, 'GET', ems.EmsPaths.exit(randomUUID()), undefined, await as(partner));
    expect(read.status).toBe(403);
  });

  it('when a request names an unknown person, then it is 422 naming the row, and nobody is exited', async () => {
    const e = picker.takeEmployee();
    const r = await start({ employees: [{ employeeId: e.id }, { employeeId: 'NOBODY-1' }], reason: 'other' });
    expect(r.status).toBe(422);
    expect(r.body.type).toBe(ems.EmsProblemTypes.exitRowsRefused);
    expect(r.body.errors).toEqual([{ row: 2, employeeId: 'NOBODY-1', error: 'no employee with this id' }]);
    const cases = (await http<{ items: ems.Resignation[] }>(base, 'GET', `${ems.EmsPaths.resignations}?employeeId=${e.id}`)).body;
    expect(cases.items).toHaveLength(0);
    const grants = await sql<{ status: string }>('SELECT status FROM access.grants WHERE employee_id = $1', [e.id]);
    expect(grants.every((g) => g.status === 'active')).toBe(true);
    // A bad body (no reason) is refused at the edge.
    const bad = await start({ employees: [{ employeeId: e.id }] });
    expect(bad.status).toBe(400);
  });
});
