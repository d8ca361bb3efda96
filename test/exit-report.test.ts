/**
 * The HR lead's exit report (GET /api/reports/exits) and the reason category it groups by — real EMS,
 * real PostgreSQL, cases submitted and decided through the API.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import type { ems, reports } from '@ems/contracts';
import { HR_LEAD, http, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const plain = (e: Employee) => e.managerId !== null && !org.employees.some((x) => x.managerId === e.id) && !admins.has(e.id);
const departmentOf = (e: Employee) => org.departments.find((d) => d.id === e.departmentId)!.name;
const ENGINEER = org.employees.find((e) => e.departmentId === 'eng' && plain(e))!;
const SELLER = org.employees.find((e) => e.departmentId === 'sales' && plain(e))!;
const THIRD = org.employees.find((e) => e.departmentId === 'eng' && plain(e) && e.id !== ENGINEER.id)!;
/** Exited involuntarily by HR (a redundancy): counted apart from the resignations. */
const LET_GO = org.employees.find((e) => e.departmentId === 'sales' && plain(e) && e.id !== SELLER.id)!;

describe('the exit report', () => {
  let env: AcceptanceEnv;
  let base: string;
  const as = async (person: string) => ({ authorization: `Bearer ${await tokenFor(base, person)}` });
  const ids: Record<string, string> = {};
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    env = await startAcceptanceEms('orchestration', 'exit_report');
    base = env.base;
    const submissions: Array<[Employee, Record<string, string>]> = [
      [ENGINEER, { reason: 'A bigger role', reasonCategory: 'career' }],
      [SELLER, { reason: 'Better pay elsewhere', reasonCategory: 'compensation' }],
      [THIRD, { reason: 'Moving on' }],
    ];
    for (const [e, extra] of submissions) {
      const r = await http<ems.Resignation>(base, 'POST', '/api/resignations', { employeeId: e.id, ...extra });
      expect(r.status).toBe(201);
      ids[e.id] = r.body.id;
    }
    for (const id of Object.values(ids)) {
      await waitFor(async () => ((await http<{ status: string }>(base, 'GET', `/api/resignations/${id}`)).body.status === 'awaiting_decision' ? true : undefined), `case ${id} to settle`, 60_000);
    }
    const decide = (id: string, body: unknown, path = 'decision') => http(base, 'POST', `/api/resignations/${id}/${path}`, body, {});
    expect((await decide(ids[ENGINEER.id]!, { decision: 'exit_confirmed' })).status).toBe(200);
    expect((await decide(ids[SELLER.id]!, { decision: 'retained' })).status).toBe(200);
    expect((await decide(ids[THIRD.id]!, {}, 'withdrawal')).status).toBe(200);
    const exit = await http<ems.ExitsStarted>(base, 'POST', '/api/exits', { employees: [{ employeeId: LET_GO.id }], reason: 'redundancy' }, { ...(await as(HR_LEAD)), 'idempotency-key': randomUUID() });
    expect(exit.status, JSON.stringify(exit.body)).toBe(202);
    await waitFor(async () => ((await http<ems.ExitBatch>(base, 'GET', `/api/exits/${exit.body.id}`, undefined, await as(HR_LEAD))).body.settled ? true : undefined), 'the involuntary exit to settle', 60_000);
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when the HR lead asks for this month, then each case counts once in its series, by month, department and reason (uncategorised apart; an involuntary exit only as involuntary, by HR\'s reason)', async () => {
    const res = await http<reports.ExitReport>(base, 'GET', `/api/reports/exits?from=${today}&to=${today}`, undefined, await as(HR_LEAD));
    expect(res.status).toBe(200);
    const r = res.body;
    expect(r).toMatchObject({ from: today, to: today, totals: { submitted: 3, exits: 1, retained: 1, withdrawn: 1, involuntary: 1 } });
    expect(r.byMonth).toEqual([{ month: today.slice(0, 7), submitted: 3, exits: 1, retained: 1, withdrawn: 1, involuntary: 1 }]);
    expect(r.byDepartment).toEqual([
      { department: departmentOf(ENGINEER), submitted: 2, exits: 1, retained: 0, withdrawn: 1, involuntary: 0 },
      { department: departmentOf(SELLER), submitted: 1, exits: 0, retained: 1, withdrawn: 0, involuntary: 1 },
    ]);
    expect(r.byReason.map((x) => x.reasonCategory)).toEqual(['career', 'compensation', 'management', 'relocation', 'personal', 'other', 'uncategorised']);
    const reason = (c: string) => r.byReason.find((x) => x.reasonCategory === c);
    expect(reason('career')).toMatchObject({ submitted: 1, exits: 1 });
    expect(reason('compensation')).toMatchObject({ submitted: 1, retained: 1 });
    expect(reason('uncategorised')).toMatchObject({ submitted: 1, withdrawn: 1 });
    expect(reason('management')).toMatchObject({ submitted: 0, exits: 0, retained: 0, withdrawn: 0 });
    // The involuntary exit has no reason category (the employee gave none): it is counted by HR's reason, apart.
    expect(r.byReason.every((x) => x.involuntary === 0)).toBe(true);
    expect(r.byExitReason).toEqual([
      { reason: 'misconduct', involuntary: 0 },
      { reason: 'redundancy', involuntary: 1 },
      { reason: 'performance', involuntary: 0 },
      { reason: 'end_of_contract', involuntary: 0 },
      { reason: 'other', involuntary: 0 },
    ]);
  });

  it('when no window is given, then it is the last twelve months to today, every month listed', async () => {
    const r = (await http<reports.ExitReport>(base, 'GET', '/api/reports/exits', undefined, await as(HR_LEAD))).body;
    expect(r.to).toBe(today);
    expect(r.byMonth).toHaveLength(12);
    expect(r.byMonth.at(-1)).toMatchObject({ month: today.slice(0, 7), exits: 1 });
    expect(r.totals.submitted).toBe(3);
  });

  it('when the window is the wrong way round, or someone other than the HR lead asks, then it is refused', async () => {
    const backwards = await http(base, 'GET', '/api/reports/exits?from=2026-12-01&to=2026-11-01', undefined, await as(HR_LEAD));
    expect(backwards.status).toBe(400);
    expect(backwards.contentType).toContain('application/problem+json');
    expect((await http(base, 'GET', '/api/reports/exits', undefined, await as(ENGINEER.hrPartnerId))).status).toBe(403);
    expect((await http(base, 'GET', '/api/reports/exits?from=2026-02-30', undefined, await as(HR_LEAD))).status).toBe(400);
  });

  it('when a case is read, then it shows its reason category and department — a manager (summary) not the category', async () => {
    const full = await http<ems.Resignation>(base, 'GET', `/api/resignations/${ids[ENGINEER.id]}`, undefined, await as(HR_LEAD));
    expect(full.body).toMatchObject({ reasonCategory: 'career', department: departmentOf(ENGINEER) });
    const summary = await http<ems.Resignation>(base, 'GET', `/api/resignations/${ids[ENGINEER.id]}`, undefined, await as(ENGINEER.managerId!));
    expect(summary.body).toMatchObject({ reason: null, reasonCategory: null, department: departmentOf(ENGINEER) });
    const wrong = await http(base, 'POST', '/api/resignations', { employeeId: ENGINEER.id, reasonCategory: 'boredom' });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('reasonCategory');
  });
});
