import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Clock, Pool, ServiceModule } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { demoOrg, type DemoOrg } from '@ems/demo-org';
import { access } from '@ems/contracts';
import { bootAccess, knownCaseOf, poolFor, serve, type AccessHttp } from './support.ts';

const org = demoOrg();
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
const criticalGrantsOf = (employeeId: string) =>
  org.grants
    .filter((g) => g.employeeId === employeeId && critical.has(g.systemId))
    .map((g) => g.id)
    .sort();
// Engineers first (3 critical grants: github, aws-prod, vpn), then anyone else with at least 2.
const candidates = [...org.employees]
  .sort((a, b) => Number(b.departmentId === 'eng') - Number(a.departmentId === 'eng'))
  .map((e) => e.id)
  .filter((id) => criticalGrantsOf(id).length >= 2);
let nextCandidate = 0;
/** A different employee for every test, so tests never share state. */
const freshEmployee = (): string => {
  const id = candidates[nextCandidate++];
  if (!id) throw new Error('out of demo employees');
  return id;
};

/** A clock the tests move by hand. */
let now = new Date('2026-03-02T09:00:00.000Z');
const clock: Clock = { now: () => new Date(now) };
const tick = (ms = 1000) => (now = new Date(now.getTime() + ms));

let testDb: TestDatabase;
let pool: Pool;
let service: ServiceModule<DemoOrg>;
let http: AccessHttp;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'access');
  pool = poolFor(testDb);
  service = await bootAccess(pool, { clock });
  // Behind the trust boundary: holds are created and released with EMS's service token, read by IT's access administrator.
  http = await serve(service, pool);
});

afterAll(async () => {
  await http?.app.close();
  await pool?.end();
  await testDb?.drop();
});

interface Answer {
  status: number;
  type: string;
  body: unknown;
}

const call = (method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer> => http.call(method, path, body, headers);

const hold = (a: Answer) => access.AccessHold.parse(a.body);
/** Suspends as EMS does, for the case the body names (EMS knows it as the first employee named for it). */
const suspendAccess = (body: unknown, headers?: Record<string, string>) => {
  knownCaseOf(body);
  return call('POST', access.AccessPaths.holds, body, headers);
};

async function effective(employeeId: string): Promise<Record<string, string>> {
  const a = await call('GET', access.AccessPaths.employeeAccess(employeeId));
  expect(a.status).toBe(200);
  const parsed = access.EffectiveAccess.parse(a.body);
  return Object.fromEntries(parsed.items.map((i) => [i.grantId, i.status]));
}

async function auditOf(query: string) {
  const a = await call('GET', `${access.AccessPaths.audit}?${query}&limit=500`);
  expect(a.status).toBe(200);
  return access.AuditList.parse(a.body).items;
}

async function count(table: 'holds' | 'audit' | 'hold_grants'): Promise<number> {
  const r = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM access.${table}`);
  return r.rows[0]!.n;
}

async function grantRow(id: string) {
  const r = await pool.query<{ status: string; suspended_by_hold: string | null }>('SELECT status, suspended_by_hold FROM access.grants WHERE id = $1', [id]);
  return r.rows[0];
}

describe('access holds', () => {
  it('when the OpenAPI document is fetched, then it describes every access route', async () => {
    const a = await call('GET', '/openapi.json');
    expect(a.status).toBe(200);
    const paths = Object.keys((a.body as { paths: Record<string, unknown> }).paths);
    for (const p of ['/api/access-holds', '/api/access-holds/{id}', '/api/access-holds/{id}/release', '/api/employees/{id}/access', '/api/access-audit', '/api/access-audit/verification', '/api/systems']) {
      expect(paths).toContain(p);
    }
  });

  it('when the systems are listed, then the seeded catalogue shows which are critical', async () => {
    const a = await call('GET', access.AccessPaths.systems);
    expect(a.status).toBe(200);
    const items = access.SystemList.parse(a.body).items;
    expect(items.map((s) => s.id).sort()).toEqual(org.systems.map((s) => s.id).sort());
    expect(items.find((s) => s.id === 'github')?.critical).toBe(true);
    expect(items.find((s) => s.id === 'slack')?.critical).toBe(false);
  });

  it('when a hold is requested, then exactly the active critical grants are suspended, the rest stay active, and each change is audited', async () => {
    const employeeId = freshEmployee();
    const resignationId = randomUUID();
    const before = await effective(employeeId);
    expect(Object.values(before).every((s) => s === 'active')).toBe(true);

    const a = await suspendAccess({ resignationId, employeeId, reason: 'Resigned' });
    expect(a.status).toBe(201);
    const h = hold(a);
    expect(h).toMatchObject({ resignationId, employeeId, status: 'active', releasedAt: null, createdAt: now.toISOString() });
    expect(h.suspendedGrants.map((g) => g.grantId)).toEqual(criticalGrantsOf(employeeId));
    expect(h.suspendedGrants.map((g) => g.system).sort()).toEqual(['aws-prod', 'github', 'vpn']);

    const after = await effective(employeeId);
    for (const [grantId, status] of Object.entries(after)) {
      const isCritical = critical.has(org.grants.find((g) => g.id === grantId)!.systemId);
      expect(status, grantId).toBe(isCritical ? 'suspended' : 'active');
    }
    expect(Object.keys(after).length).toBe(Object.keys(before).length);
    for (const grantId of criticalGrantsOf(employeeId)) expect((await grantRow(grantId))?.suspended_by_hold).toBe(h.id);

    const audit = await auditOf(`holdId=${h.id}`);
    expect(audit.map((e) => e.grantId).sort()).toEqual(criticalGrantsOf(employeeId));
    for (const e of audit) expect(e).toMatchObject({ employeeId, from: 'active', to: 'suspended', reason: 'Resigned', holdId: h.id, at: now.toISOString() });

    expect((await call('GET', access.AccessPaths.hold(h.id))).body).toEqual(h);
  });

  it('when the same resignation is sent again, then the same hold answers with 200 and nothing new is written', async () => {
    const employeeId = freshEmployee();
    const resignationId = randomUUID();
    const first = await suspendAccess({ resignationId, employeeId });
    expect(first.status).toBe(201);
    const audits = await count('audit');
    tick();

    const again = await suspendAccess({ resignationId, employeeId });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await count('audit')).toBe(audits);
    const list = await call('GET', `${access.AccessPaths.holds}?resignationId=${resignationId}`);
    expect(access.HoldList.parse(list.body).items).toHaveLength(1);
  });

  it('when an Idempotency-Key is repeated, then the original hold answers; reused for another resignation, then 409 and nothing is stored', async () => {
    const key = `key-${randomUUID()}`;
    const employeeId = freshEmployee();
    const first = await suspendAccess({ resignationId: randomUUID(), employeeId }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const again = await suspendAccess({ resignationId: hold(first).resignationId, employeeId }, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(hold(again).id).toBe(hold(first).id);

    const holds = await count('holds');
    const misuse = await suspendAccess({ resignationId: randomUUID(), employeeId }, { 'idempotency-key': key });
    expect(misuse.status).toBe(409);
    expect(misuse.type).toContain('application/problem+json');
    expect(await count('holds')).toBe(holds);
  });

  it('when a resignation that already has a hold is sent for another employee, then 409 and nothing changes', async () => {
    const resignationId = randomUUID();
    const employeeId = freshEmployee();
    const other = freshEmployee();
    expect((await suspendAccess({ resignationId, employeeId })).status).toBe(201);
    const audits = await count('audit');
    // EMS knows the case as the first employee's: the case check or the hold's own refuses it, either way 409.
    const a = await suspendAccess({ resignationId, employeeId: other });
    expect(a.status).toBe(409);
    expect(await count('audit')).toBe(audits);
    expect(Object.values(await effective(other)).every((s) => s === 'active')).toBe(true);
  });

  it('when 10 identical requests arrive at once, then exactly one hold is created and its grants are audited once', async () => {
    const employeeId = freshEmployee();
    const resignationId = randomUUID();
    const audits = await count('audit');
    const answers = await Promise.all(Array.from({ length: 10 }, () => suspendAccess({ resignationId, employeeId })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => hold(a).id)).size).toBe(1);
    const rows = await pool.query('SELECT id FROM access.holds WHERE resignation_id = $1', [resignationId]);
    expect(rows.rowCount).toBe(1);
    expect(await count('audit')).toBe(audits + criticalGrantsOf(employeeId).length);
  });

  it('when 10 different resignations for one employee arrive at once, then their grants are suspended once, by one hold', async () => {
    const employeeId = freshEmployee();
    const answers = await Promise.all(Array.from({ length: 10 }, () => suspendAccess({ resignationId: randomUUID(), employeeId })));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const suspending = answers.map(hold).filter((h) => h.suspendedGrants.length > 0);
    expect(suspending).toHaveLength(1);
    expect(suspending[0]!.suspendedGrants.map((g) => g.grantId)).toEqual(criticalGrantsOf(employeeId));
    expect(await auditOf(`employeeId=${employeeId}`)).toHaveLength(criticalGrantsOf(employeeId).length);
  });

  it('when the employee is unknown, then 404 problem and nothing is stored', async () => {
    const [holds, audits] = [await count('holds'), await count('audit')];
    const a = await suspendAccess({ resignationId: randomUUID(), employeeId: 'E9999' });
    expect(a.status).toBe(404);
    expect(a.type).toContain('application/problem+json');
    expect(a.body).toMatchObject({ status: 404, title: 'Not Found' });
    expect([await count('holds'), await count('audit')]).toEqual([holds, audits]);
    expect((await call('GET', access.AccessPaths.employeeAccess('E9999'))).status).toBe(404);
  });

  it('when the payload is invalid, then 400 problem naming the field, and nothing is stored', async () => {
    const [holds, audits] = [await count('holds'), await count('audit')];
    const employeeId = freshEmployee();
    const cases: unknown[] = [
      { resignationId: 'not-a-uuid', employeeId },
      { resignationId: randomUUID() },
      { resignationId: randomUUID(), employeeId: 'E 1000; DROP' },
      { resignationId: randomUUID(), employeeId, reason: 'x'.repeat(501) },
      'just a string',
    ];
    for (const body of cases) {
      const a = await suspendAccess(body);
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.type).toContain('application/problem+json');
      expect(a.body).toMatchObject({ status: 400, title: 'Invalid request' });
    }
    const missing = await suspendAccess({ resignationId: randomUUID() });
    expect((missing.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('body.employeeId');
    expect([await count('holds'), await count('audit')]).toEqual([holds, audits]);
    expect(Object.values(await effective(employeeId)).every((s) => s === 'active')).toBe(true);
  });

  it('when a grant is already suspended by an admin, then the hold leaves it out and its release does not re-open it', async () => {
    const employeeId = freshEmployee();
    const [adminSuspended, ...rest] = criticalGrantsOf(employeeId);
    await pool.query(`UPDATE access.grants SET status = 'suspended' WHERE id = $1`, [adminSuspended]);
    const h = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    expect(h.suspendedGrants.map((g) => g.grantId)).toEqual(rest);
    tick();
    expect((await call('POST', access.AccessPaths.release(h.id))).status).toBe(200);
    expect((await effective(employeeId))[adminSuspended!]).toBe('suspended');
  });
});

describe('releasing access holds', () => {
  it('when a hold is released, then what it suspended is restored, but not a grant another admin revoked in between; a second release changes nothing', async () => {
    const employeeId = freshEmployee();
    const h = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    const [revoked, ...restorable] = criticalGrantsOf(employeeId);
    // Another admin revokes one of the suspended grants meanwhile.
    await pool.query(`UPDATE access.grants SET status = 'revoked', suspended_by_hold = NULL, updated_at = now() WHERE id = $1`, [revoked]);
    tick(60_000);
    const releasedAt = now.toISOString();

    const a = await call('POST', access.AccessPaths.release(h.id), { reason: 'Resignation withdrawn' });
    expect(a.status).toBe(200);
    expect(hold(a)).toMatchObject({ id: h.id, status: 'released', releasedAt, suspendedGrants: h.suspendedGrants });

    const after = await effective(employeeId);
    expect(after[revoked!]).toBe('revoked');
    for (const g of restorable) expect(after[g]).toBe('active');
    expect(Object.values(after).filter((s) => s === 'active')).toHaveLength(Object.keys(after).length - 1);
    for (const g of restorable) expect((await grantRow(g))?.suspended_by_hold).toBeNull();

    const audit = await auditOf(`holdId=${h.id}`);
    expect(audit.map((e) => [e.grantId, e.from, e.to])).toEqual([
      ...criticalGrantsOf(employeeId).map((g) => [g, 'active', 'suspended']),
      ...restorable.map((g) => [g, 'suspended', 'active']),
    ]);
    expect(audit.slice(-restorable.length).every((e) => e.reason === 'Resignation withdrawn' && e.at === releasedAt)).toBe(true);

    const audits = await count('audit');
    tick();
    const again = await call('POST', access.AccessPaths.release(h.id));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(a.body);
    expect(await count('audit')).toBe(audits);
  });

  it('when the employee has another active hold, then releasing one keeps the grants suspended under the other until it too is released', async () => {
    const employeeId = freshEmployee();
    const first = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    tick();
    const second = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    expect(second.suspendedGrants).toEqual([]);

    tick();
    expect((await call('POST', access.AccessPaths.release(first.id))).status).toBe(200);
    const during = await effective(employeeId);
    for (const g of criticalGrantsOf(employeeId)) {
      expect(during[g]).toBe('suspended');
      expect((await grantRow(g))?.suspended_by_hold).toBe(second.id);
    }
    expect(hold(await call('GET', access.AccessPaths.hold(second.id))).suspendedGrants.map((g) => g.grantId)).toEqual(criticalGrantsOf(employeeId));

    tick();
    expect((await call('POST', access.AccessPaths.release(second.id))).status).toBe(200);
    const after = await effective(employeeId);
    expect(Object.values(after).every((s) => s === 'active')).toBe(true);
  });

  it('when 5 releases of one hold arrive at once, then it is released once and each grant restored once', async () => {
    const employeeId = freshEmployee();
    const h = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    tick();
    const answers = await Promise.all(Array.from({ length: 5 }, () => call('POST', access.AccessPaths.release(h.id))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const audit = await auditOf(`holdId=${h.id}`);
    expect(audit.filter((e) => e.to === 'active')).toHaveLength(criticalGrantsOf(employeeId).length);
  });

  it('when an unknown hold is released or read, then 404 problem; a malformed id, then 400', async () => {
    const unknown = randomUUID();
    const release = await call('POST', access.AccessPaths.release(unknown));
    expect(release.status).toBe(404);
    expect(release.type).toContain('application/problem+json');
    expect((await call('GET', access.AccessPaths.hold(unknown))).status).toBe(404);
    expect((await call('GET', access.AccessPaths.hold('nope'))).status).toBe(400);
  });
});

describe('lists and seed', () => {
  it('when holds are listed by employee with a small page, then they page in creation order', async () => {
    const employeeId = freshEmployee();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      tick();
      ids.push(hold(await suspendAccess({ resignationId: randomUUID(), employeeId })).id);
    }
    const page1 = access.HoldList.parse((await call('GET', `${access.AccessPaths.holds}?employeeId=${employeeId}&limit=2`)).body);
    expect(page1.items.map((h) => h.id)).toEqual(ids.slice(0, 2));
    expect(page1.nextOffset).toBe(2);
    const page2 = access.HoldList.parse((await call('GET', `${access.AccessPaths.holds}?employeeId=${employeeId}&limit=2&offset=2`)).body);
    expect(page2.items.map((h) => h.id)).toEqual(ids.slice(2));
    expect(page2.nextOffset).toBeNull();
    expect((await call('GET', `${access.AccessPaths.holds}?limit=0`)).status).toBe(400);
  });

  it('when the audit trail is paged, then entries come in write order without gaps or repeats', async () => {
    const all = await auditOf('');
    expect(all.length).toBeGreaterThan(4);
    const ids = all.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const first = access.AuditList.parse((await call('GET', `${access.AccessPaths.audit}?limit=3`)).body);
    const second = access.AuditList.parse((await call('GET', `${access.AccessPaths.audit}?limit=3&offset=${first.nextOffset}`)).body);
    expect([...first.items, ...second.items].map((e) => e.id)).toEqual(ids.slice(0, 6));
  });

  it('when the organisation is seeded again, then suspended grants stay suspended and nothing is duplicated', async () => {
    const employeeId = freshEmployee();
    const h = hold(await suspendAccess({ resignationId: randomUUID(), employeeId }));
    const grants = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.grants')).rows[0]!.n;
    await service.seed!(org);
    expect((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.grants')).rows[0]!.n).toBe(grants);
    expect(grants).toBe(org.grants.length);
    for (const g of criticalGrantsOf(employeeId)) expect(await grantRow(g)).toEqual({ status: 'suspended', suspended_by_hold: h.id });
  });
});
