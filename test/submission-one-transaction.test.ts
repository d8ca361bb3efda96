import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, createPool, HttpProblem, migrate, systemClock, type Actor, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { recordStatements } from './support/recording-pool.ts';
import { migrations as emsMigrations } from '../packages/ems/src/db/migrations.ts';
import { EMS_SCHEMA } from '../packages/ems/src/ems.service.ts';
import type { EmsDb } from '../packages/ems/src/db/types.ts';
import { createCaseStore, type CaseStore } from '../packages/ems/src/resignations/case-store.ts';
import { createDirectory } from '../packages/ems/src/directory/directory.ts';
import { submitResignation, type SubmitDeps } from '../packages/ems/src/resignations/submit-resignation.ts';

/*
 * A submission reads its employee in the transaction that opens the case (packages/ems/src/resignations/
 * submit-resignation.ts): nothing is sent outside it — the read was a transaction of its own, one commit per case — and
 * a refusal found by the read (no such employee, no HR partner, a day the calendar refuses) still writes nothing.
 */
let tdb: TestDatabase;
let pool: Pool;
let store: CaseStore;
let deps: SubmitDeps;
/** Every statement text sent through `pool`. */
const sent: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'submitone');
  pool = createPool(tdb.url, { max: 4, name: 'submit-one-test' });
  recordStatements(pool, sent);
  await migrate(pool, EMS_SCHEMA, emsMigrations);
  const db = createKysely<EmsDb>(pool, EMS_SCHEMA);
  store = createCaseStore(db, systemClock, { stepDeadlineSeconds: 60 });
  deps = { store, directory: createDirectory(db), starter: { mode: 'choreography', start: (intake) => store.open(intake) }, clock: systemClock, noticeDays: 14 };
});
afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await tdb?.drop();
});

/** Someone on the roster. */
async function employee(over: { hrPartnerId?: string | null } = {}): Promise<string> {
  const id = `emp-${randomUUID()}`;
  await pool.query(
    `INSERT INTO ems.employees (id, name, email, timezone, hr_partner_id, work_days) VALUES ($1, 'Alice Leaver', 'alice@acme.example', 'Europe/Berlin', $2, '{1,2,3,4,5}')`,
    [id, over.hrPartnerId === undefined ? 'hrp-berlin' : over.hrPartnerId],
  );
  return id;
}

const meta = { allowed: () => true, actor: (id: string): Actor => ({ kind: 'person', id, name: 'Alice Leaver', role: 'employee', client: 'test' }) };
const submit = (employeeId: string, lastWorkingDay?: string) => submitResignation(deps, { employeeId, ...(lastWorkingDay ? { lastWorkingDay } : {}) }, meta);

/** The statements sent while `work` ran, each marked whether a transaction was open when it was sent. */
async function statementsOf(work: () => Promise<unknown>): Promise<Array<{ text: string; inTransaction: boolean }>> {
  const from = sent.length;
  await work().catch(() => undefined);
  let open = false;
  return sent.slice(from).map((text) => {
    const word = text.trim().toLowerCase();
    if (word.startsWith('begin') || word.startsWith('start transaction')) open = true;
    const statement = { text, inTransaction: open };
    if (word.startsWith('commit') || word.startsWith('rollback')) open = false;
    return statement;
  });
}

async function casesOf(employeeId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ems.resignations WHERE employee_id = $1', [employeeId]);
  return rows[0]!.n;
}

describe('a submission in one transaction', () => {
  it('when an employee resigns, then their case is opened and everything sent for it, the directory read too, is inside one transaction', async () => {
    const id = await employee();
    const statements = await statementsOf(() => submit(id));
    expect(await casesOf(id)).toBe(1);
    expect(statements.some((s) => /"?employees"?/i.test(s.text) && /select/i.test(s.text))).toBe(true);
    expect(statements.filter((s) => !s.inTransaction)).toEqual([]);
    expect(statements.filter((s) => /^\s*commit/i.test(s.text))).toHaveLength(1);
    // The case, its three steps and its first timeline entry are written by one statement (were two).
    expect(statements.filter((s) => /insert into "?ems"?\."?(resignations|steps|timeline)"?/i.test(s.text))).toHaveLength(1);
    const { rows } = await pool.query<{ steps: string[]; entries: string[] }>(
      `SELECT (SELECT array_agg(s.name || ':' || s.status || ':' || s.attempts ORDER BY s.name) FROM ems.steps s WHERE s.resignation_id = r.id) AS steps,
              (SELECT array_agg(t.dedupe_key || ':' || (t.at = r.submitted_at) || ':' || (t.correlation_id = r.correlation_id) || ':' || (t.actor ->> 'id')) FROM ems.timeline t WHERE t.resignation_id = r.id) AS entries
         FROM ems.resignations r WHERE r.employee_id = $1`,
      [id],
    );
    expect(rows[0]).toEqual({ steps: ['notifyManager:pending:0', 'scheduleInterview:pending:0', 'suspendAccess:pending:0'], entries: [`submitted:true:true:${id}`] });
  });

  it('when the employee is not on the roster, has no HR partner, or names a day their calendar refuses, then the answer says so and nothing is written', async () => {
    const unknown = `emp-${randomUUID()}`;
    await expect(submit(unknown)).rejects.toMatchObject({ status: 404 });
    expect(await casesOf(unknown)).toBe(0);

    const noPartner = await employee({ hrPartnerId: null });
    await expect(submit(noPartner)).rejects.toMatchObject({ status: 422, type: 'https://ems.dev/problems/no-hr-partner' });
    expect(await casesOf(noPartner)).toBe(0);

    const saturday = await employee();
    const refused = await submit(saturday, '2099-01-03').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect(refused).toMatchObject({ status: 400, type: 'https://ems.dev/problems/validation' });
    expect(await casesOf(saturday)).toBe(0);
  });

  it('when someone with an open case resigns again naming a refused day, then the answer is the open case (409), as before', async () => {
    const id = await employee();
    const first = await submit(id);
    expect(first.kind).toBe('created');
    await expect(submit(id, '2099-01-03')).rejects.toMatchObject({ status: 409, type: 'https://ems.dev/problems/open-resignation-exists' });
    await expect(submit(id)).rejects.toMatchObject({ status: 409 });
    expect(await casesOf(id)).toBe(1);
  });
});
