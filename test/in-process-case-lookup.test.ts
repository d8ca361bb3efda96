import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, createPool, HttpProblem, migrate, requireCase, ServiceCallError, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { recordStatements } from './support/recording-pool.ts';
import { migrations as emsMigrations } from '../packages/ems/src/db/migrations.ts';
import { EMS_SCHEMA } from '../packages/ems/src/ems.service.ts';
import type { EmsDb } from '../packages/ems/src/db/types.ts';
import { inProcessCaseLookup } from '../packages/ems/src/resignations/case-facts.ts';
import { createCaseStore } from '../packages/ems/src/resignations/case-store.ts';
import { caseDraft } from './support/case-draft.ts';

/*
 * The participants' case check answered by EMS in its own process (packages/ems/src/resignations/case-facts.ts):
 * what requireCase makes of its answers — the case, no such case (404), another employee's (409), EMS that cannot
 * be read (503 while it may come back) — on a real EMS schema.
 */
let tdb: TestDatabase;
let pool: Pool;
/** Every statement text sent through `pool`. */
const sent: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'caselookup');
  pool = createPool(tdb.url, { max: 2, name: 'case-lookup-test' });
  recordStatements(pool, sent);
  await migrate(pool, EMS_SCHEMA, emsMigrations);
});
afterAll(async () => {
  await pool?.end().catch(() => undefined);
  await tdb?.drop();
});

async function openCase(employeeId: string): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO ems.resignations (id, employee_id, employee_name, employee_email, employee_timezone, hr_partner_id, last_working_day, status, mode, correlation_id, submitted_at, updated_at)
     VALUES ($1, $2, 'Alice Leaver', 'alice@acme.example', 'Europe/Berlin', 'hrp-berlin', '2027-03-31', 'in_progress', 'orchestration', $3, now(), now())`,
    [id, employeeId, id],
  );
  return id;
}

/** Statements that read EMS's cases (not the ones that write them). */
const reads = () => sent.filter((t) => t.includes('"resignations"') && !/^\s*insert/i.test(t)).length;

describe('the case check answered in EMS’s own process', () => {
  it('when a participant names a case EMS holds, then it gets the case and its employee; another employee’s is 409, an unknown or malformed id 404', async () => {
    const lookup = inProcessCaseLookup(createKysely<EmsDb>(pool, EMS_SCHEMA));
    const id = await openCase('emp-lookup-1');
    await expect(requireCase(lookup, id, 'emp-lookup-1')).resolves.toEqual({ id, employeeId: 'emp-lookup-1' });
    await expect(requireCase(lookup, id, 'emp-someone-else')).rejects.toMatchObject({ status: 409 });
    await expect(requireCase(lookup, randomUUID(), 'emp-lookup-1')).rejects.toMatchObject({ status: 404 });
    await expect(requireCase(lookup, 'not-a-uuid', 'emp-lookup-1')).rejects.toMatchObject({ status: 404 });
  });

  it('when the same case is checked again (another participant, another call), then EMS is not read again', async () => {
    const lookup = inProcessCaseLookup(createKysely<EmsDb>(pool, EMS_SCHEMA));
    const id = await openCase('emp-lookup-2');
    const before = reads();
    for (let i = 0; i < 3; i++) await requireCase(lookup, id, 'emp-lookup-2');
    expect(reads() - before).toBe(1);
  });

  it('when EMS opens a case in this process, then the participants’ checks for it read nothing; a case it refused to open is not known', async () => {
    const db = createKysely<EmsDb>(pool, EMS_SCHEMA);
    const lookup = inProcessCaseLookup(db);
    const store = createCaseStore(db, systemClock, { stepDeadlineSeconds: 60, opened: (kase) => lookup.opened(kase) });
    const first = caseDraft('emp-lookup-3');
    expect((await store.open(first)).outcome).toBe('created');
    const before = reads();
    await expect(requireCase(lookup, first.id, 'emp-lookup-3')).resolves.toEqual({ id: first.id, employeeId: 'emp-lookup-3' });
    await expect(requireCase(lookup, first.id, 'emp-someone-else')).rejects.toMatchObject({ status: 409 });
    expect(reads() - before).toBe(0);
    // The same employee's second case is refused (they have one open): its id names no case.
    const second = caseDraft('emp-lookup-3');
    expect((await store.open(second)).outcome).toBe('conflict');
    await expect(requireCase(lookup, second.id, 'emp-lookup-3')).rejects.toMatchObject({ status: 404 });
  });

  it('when EMS’s database cannot be reached, then the check says EMS cannot be asked (503: try again), not a defect (500)', async () => {
    const broken = createPool(tdb.url.replace(/\/\/([^@/]*@)?[^/]*\//, '//$1127.0.0.1:1/'), { max: 1, name: 'case-lookup-broken' });
    try {
      const lookup = inProcessCaseLookup(createKysely<EmsDb>(broken, EMS_SCHEMA));
      const failed = await lookup.get(randomUUID()).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(ServiceCallError);
      expect((failed as ServiceCallError).retryable).toBe(true);
      const refused = await requireCase(lookup, randomUUID()).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(HttpProblem);
      expect((refused as HttpProblem).status).toBe(503);
    } finally {
      await broken.end().catch(() => undefined);
    }
  });
});
