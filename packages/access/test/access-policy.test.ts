import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import type { Employee } from '@ems/demo-org';
import { bootAccess, count, criticalGrantsOf, knownCase, org, poolFor, serve, type AccessHttp } from './support.ts';

/**
 * Who may touch access holds, as the policy table says: only EMS's service identity suspends access;
 * an HR partner reads the holds of the employees assigned to them and no one else's (a hold they may
 * not see answers like an unknown one); a caller without a token is told to sign in.
 */

const HR_PARTNER = 'hrp-berlin';
const administrators = new Set(org.roleAssignments.map((a) => a.personId));
/** An employee and nothing more: no reports, no administrative role. */
const plainEmployee = org.employees.find((e) => !administrators.has(e.id) && !org.employees.some((r) => r.managerId === e.id))!;
const taken = new Set([plainEmployee.id]);
/** A different employee with critical access on every call (optionally one that `fits`), so tests never share rows. */
function freshEmployee(fits: (e: Employee) => boolean = () => true): Employee {
  const e = org.employees.find((x) => !taken.has(x.id) && criticalGrantsOf(x.id).length >= 2 && fits(x));
  if (!e) throw new Error('out of demo employees');
  taken.add(e.id);
  return e;
}
const assignedToPartner = (e: Employee) => e.hrPartnerId === HR_PARTNER;

let testDb: TestDatabase;
let pool: Pool;
let http: AccessHttp;
let base: string;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accesspolicy');
  pool = poolFor(testDb);
  http = await serve(await bootAccess(pool, {}), pool);
  base = `http://127.0.0.1:${(http.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await http?.app.close();
  await pool?.end();
  await testDb?.drop();
});

const holdsOf = (resignationId: string) => count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [resignationId]);
const auditsOf = (employeeId: string) => count(pool, 'SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1', [employeeId]);
/** A hold created the way EMS creates one: with its own service token (support's default for this call). */
async function holdFor(employeeId: string): Promise<access.AccessHold> {
  const created = await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employeeId), employeeId });
  expect(created.status).toBe(201);
  return access.AccessHold.parse(created.body);
}

describe('access policy', () => {
  it('when an employee uses their own token to put a colleague’s access on hold, then 403 names the permission suspendAccess, and no hold or audit entry exists afterwards', async () => {
    const target = freshEmployee();
    // A real case: the token, not the case, is what is refused.
    const resignationId = knownCase(target.id);

    const refused = await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId: target.id }, await http.identity.as(plainEmployee.id));
    expect(refused.status).toBe(403);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ status: 403, title: 'Forbidden', permission: 'suspendAccess' });
    expect((refused.body as { detail: string }).detail).toContain('suspendAccess');

    expect(await holdsOf(resignationId)).toBe(0);
    expect(await auditsOf(target.id)).toBe(0);
    expect(Object.values(await http.effective(target.id)).every((s) => s === 'active')).toBe(true);
  });

  it('when an HR partner reads holds, then they see the hold of an employee assigned to them, get 404 for the hold of an employee not assigned to them, and a list filtered to that employee is empty', async () => {
    const mine = await holdFor(freshEmployee(assignedToPartner).id);
    const theirs = await holdFor(freshEmployee((e) => !assignedToPartner(e)).id);
    const asPartner = await http.identity.as(HR_PARTNER);

    const read = await http.call('GET', access.AccessPaths.hold(mine.id), undefined, asPartner);
    expect(read.status).toBe(200);
    expect(access.AccessHold.parse(read.body)).toEqual(mine);
    const listed = await http.call('GET', `${access.AccessPaths.holds}?employeeId=${mine.employeeId}`, undefined, asPartner);
    expect(listed.status).toBe(200);
    expect(access.HoldList.parse(listed.body).items).toEqual([mine]);

    // Not theirs: exactly what an unknown hold answers, so ids cannot be probed.
    const hidden = await http.call('GET', access.AccessPaths.hold(theirs.id), undefined, asPartner);
    const unknown = await http.call('GET', access.AccessPaths.hold(randomUUID()), undefined, asPartner);
    expect(hidden.status).toBe(404);
    expect(hidden.type).toContain('application/problem+json');
    expect(hidden.body).toMatchObject({ status: 404, title: (unknown.body as { title: string }).title });
    expect(unknown.status).toBe(404);

    const filtered = await http.call('GET', `${access.AccessPaths.holds}?employeeId=${theirs.employeeId}`, undefined, asPartner);
    expect(filtered.status).toBe(200);
    expect(access.HoldList.parse(filtered.body)).toEqual({ items: [], nextOffset: null });
    const byCase = await http.call('GET', `${access.AccessPaths.holds}?resignationId=${theirs.resignationId}`, undefined, asPartner);
    expect(access.HoldList.parse(byCase.body).items).toEqual([]);

    // The access administrator, for comparison, sees both.
    expect(access.AccessHold.parse((await http.call('GET', access.AccessPaths.hold(theirs.id))).body)).toEqual(theirs);
  });

  it('when a caller sends no credentials, then 401 with a www-authenticate challenge, and a hold request stores nothing', async () => {
    const read = await fetch(`${base}${access.AccessPaths.holds}`);
    expect(read.status).toBe(401);
    expect(read.headers.get('www-authenticate')).toMatch(/^Bearer realm="ems"/);
    expect(read.headers.get('content-type')).toContain('application/problem+json');
    expect(await read.json()).toMatchObject({ status: 401, title: 'Unauthorized' });

    const employeeId = freshEmployee().id;
    const resignationId = knownCase(employeeId);
    const create = await fetch(`${base}${access.AccessPaths.holds}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resignationId, employeeId }),
    });
    expect(create.status).toBe(401);
    expect(create.headers.get('www-authenticate')).toMatch(/^Bearer realm="ems"/);
    expect(await holdsOf(resignationId)).toBe(0);
    expect(await auditsOf(employeeId)).toBe(0);
  });
});
