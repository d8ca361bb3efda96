import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ServiceCallError, type CaseLookup, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { bootAccess, count, emsCases, employeePicker, knownCase, poolFor, serve, type AccessHttp } from './support.ts';

/**
 * Access suspends and revokes only for a real case: before a hold or a revocation, the route asks EMS
 * whether the case exists and is the named employee's. A case EMS does not know answers 404, another
 * employee's case 409, EMS out of reach 503; in each, nothing changes: no hold, no revocation, no audit
 * entry, no event, the grants as they were.
 */

const UNKNOWN_CASE = 'https://ems.dev/problems/unknown-case';
const CASE_MISMATCH = 'https://ems.dev/problems/case-mismatch';
const DAY = 24 * 3_600_000;

const freshEmployee = employeePicker();

/** Whether EMS can be asked; while off, every lookup fails the way a refused connection does (retryable). */
let emsReachable = true;
const cases: CaseLookup = {
  async get(resignationId) {
    if (!emsReachable) throw new ServiceCallError('fetch failed: connect ECONNREFUSED 127.0.0.1:3000', undefined, true);
    return emsCases.lookup.get(resignationId);
  },
};

let testDb: TestDatabase;
let pool: Pool;
let bus: RecordingBus;
let http: AccessHttp;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accesscases');
  pool = poolFor(testDb);
  // A bus, so that a hold or a revocation that went through would also show as an event.
  bus = await createRecordingBus(pool);
  http = await serve(await bootAccess(pool, { bus, cases }), pool);
});

afterAll(async () => {
  emsReachable = true;
  await http?.app.close();
  await pool?.end();
  await testDb?.drop();
});

const suspend = (body: { resignationId: string; employeeId: string }, headers?: Record<string, string>) => http.call('POST', access.AccessPaths.holds, body, headers);
const revoke = (body: { resignationId: string; employeeId: string; revokeAt?: string }, headers?: Record<string, string>) =>
  http.call('POST', access.AccessPaths.revocations, body, headers);
const tomorrow = () => new Date(Date.now() + DAY).toISOString();

/** Everything a hold or a revocation for `resignationId` and these employees would change. */
async function stateOf(resignationId: string, ...employeeIds: string[]) {
  const rows = (table: string) => count(pool, `SELECT count(*)::int AS n FROM access.${table} WHERE resignation_id = $1 OR employee_id = ANY($2)`, [resignationId, employeeIds]);
  return {
    holds: await rows('holds'),
    revocations: await rows('revocations'),
    audit: await count(pool, 'SELECT count(*)::int AS n FROM access.audit WHERE employee_id = ANY($1)', [employeeIds]),
    allRows: {
      holds: await count(pool, 'SELECT count(*)::int AS n FROM access.holds'),
      holdGrants: await count(pool, 'SELECT count(*)::int AS n FROM access.hold_grants'),
      revocations: await count(pool, 'SELECT count(*)::int AS n FROM access.revocations'),
      revocationKeys: await count(pool, 'SELECT count(*)::int AS n FROM access.revocation_keys'),
      audit: await count(pool, 'SELECT count(*)::int AS n FROM access.audit'),
    },
    grants: Object.fromEntries(await Promise.all(employeeIds.map(async (id) => [id, await http.effective(id)] as const))),
    events: (await bus.published()).filter((e) => e.subject === resignationId).length,
  };
}
type State = Awaited<ReturnType<typeof stateOf>>;

/** Nothing Access keeps about the case or the employees: no hold, no revocation, no audit entry, no event, every grant active. */
function expectUntouched(state: State): void {
  expect(state).toMatchObject({ holds: 0, revocations: 0, audit: 0, events: 0 });
  for (const [employeeId, grants] of Object.entries(state.grants)) {
    expect(Object.keys(grants).length, employeeId).toBeGreaterThan(0);
    expect(Object.values(grants).every((s) => s === 'active'), employeeId).toBe(true);
  }
}

describe('access is suspended only for a case EMS knows', () => {
  it('when a hold is requested for a case EMS does not know, then 404 unknown-case problem, and no hold, no audit entry, no event; the grants are unchanged', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const before = await stateOf(resignationId, employee.id);
    expectUntouched(before);

    const a = await suspend({ resignationId, employeeId: employee.id }, { 'idempotency-key': `${resignationId}:suspendAccess` });
    expect(a.status).toBe(404);
    expect(a.type).toContain('application/problem+json');
    expect(a.body).toMatchObject({ type: UNKNOWN_CASE, title: 'Unknown case', status: 404 });
    expect((a.body as { detail: string }).detail).toContain(resignationId);

    expect(await stateOf(resignationId, employee.id)).toEqual(before);
  });

  it('when a hold is requested for a case EMS knows as another employee’s, then 409 case-mismatch problem, and neither employee’s access changes; the case’s own employee is then held', async () => {
    const owner = freshEmployee();
    const target = freshEmployee();
    const resignationId = knownCase(owner.id);
    const before = await stateOf(resignationId, owner.id, target.id);
    expectUntouched(before);

    const a = await suspend({ resignationId, employeeId: target.id });
    expect(a.status).toBe(409);
    expect(a.type).toContain('application/problem+json');
    expect(a.body).toMatchObject({ type: CASE_MISMATCH, title: 'Case and employee do not match', status: 409 });

    expect(await stateOf(resignationId, owner.id, target.id)).toEqual(before);
    // The case itself is real: for its own employee, the same request suspends.
    const own = await suspend({ resignationId, employeeId: owner.id });
    expect(own.status).toBe(201);
    expect(access.AccessHold.parse(own.body)).toMatchObject({ resignationId, employeeId: owner.id, status: 'active' });
    expect(Object.values(await http.effective(target.id)).every((s) => s === 'active')).toBe(true);
  });
});

describe('access is revoked only for a case EMS knows', () => {
  it('when a revocation is requested for a case EMS does not know, now or for tomorrow, then 404 unknown-case problem, and nothing is scheduled or revoked', async () => {
    const employee = freshEmployee();
    for (const revokeAt of [undefined, tomorrow()]) {
      const resignationId = randomUUID();
      const before = await stateOf(resignationId, employee.id);
      expectUntouched(before);

      const a = await revoke({ resignationId, employeeId: employee.id, ...(revokeAt ? { revokeAt } : {}) }, { 'idempotency-key': `key-${resignationId}` });
      expect(a.status, `revokeAt ${revokeAt}`).toBe(404);
      expect(a.type).toContain('application/problem+json');
      expect(a.body).toMatchObject({ type: UNKNOWN_CASE, status: 404 });

      expect(await stateOf(resignationId, employee.id)).toEqual(before);
      const listed = await http.call('GET', `${access.AccessPaths.revocations}?resignationId=${resignationId}`);
      expect(access.RevocationList.parse(listed.body).items).toEqual([]);
    }
  });

  it('when a revocation is requested for a case EMS knows as another employee’s, then 409 case-mismatch problem, and nothing is scheduled or revoked', async () => {
    const owner = freshEmployee();
    const target = freshEmployee();
    const resignationId = knownCase(owner.id);
    const before = await stateOf(resignationId, owner.id, target.id);
    expectUntouched(before);

    const a = await revoke({ resignationId, employeeId: target.id });
    expect(a.status).toBe(409);
    expect(a.body).toMatchObject({ type: CASE_MISMATCH, status: 409 });
    expect(await stateOf(resignationId, owner.id, target.id)).toEqual(before);
  });
});

describe('when EMS cannot be asked', () => {
  it('when the case lookup fails (EMS out of reach), then a hold and a revocation answer 503 and nothing changes; once EMS answers, the same requests with the same Idempotency-Keys go through', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const holdKey = `${resignationId}:suspendAccess`;
    const revokeKey = `${resignationId}:revokeAccess`;
    const revokeAt = tomorrow();
    const before = await stateOf(resignationId, employee.id);
    expectUntouched(before);

    emsReachable = false;
    try {
      const held = await suspend({ resignationId, employeeId: employee.id }, { 'idempotency-key': holdKey });
      expect(held.status).toBe(503);
      expect(held.type).toContain('application/problem+json');
      expect(held.body).toMatchObject({ status: 503 });
      expect((held.body as { detail: string }).detail).toContain(resignationId);

      const revoked = await revoke({ resignationId, employeeId: employee.id, revokeAt }, { 'idempotency-key': revokeKey });
      expect(revoked.status).toBe(503);
      expect(revoked.type).toContain('application/problem+json');
      expect(revoked.body).toMatchObject({ status: 503 });

      expect(await stateOf(resignationId, employee.id)).toEqual(before);
    } finally {
      emsReachable = true;
    }

    // The caller retries: nothing was kept from the refused attempts, not even their keys.
    const held = await suspend({ resignationId, employeeId: employee.id }, { 'idempotency-key': holdKey });
    expect(held.status).toBe(201);
    const revoked = await revoke({ resignationId, employeeId: employee.id, revokeAt }, { 'idempotency-key': revokeKey });
    expect(revoked.status).toBe(201);
    expect(access.Revocation.parse(revoked.body)).toMatchObject({ resignationId, employeeId: employee.id, status: 'scheduled', revokeAt });
  });
});
