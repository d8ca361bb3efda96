import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, migrate, type Actor, type Pool } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import type { EventBus, EventBusTestHooks } from '@ems/eventbus';
import { createTestPostgresBus, publishInTransaction } from '@ems/eventbus/testing';
import { ACCESS_SCHEMA, type AccessDB } from '../src/db/access.db.ts';
import { migrations } from '../src/db/migrations.ts';
import { BACKFILLED_ACTOR, EVENTS_ACTOR, TIMER_ACTOR } from '../src/audit/actor.ts';
import { recordAudit } from '../src/audit/record-audit.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { sealAllPending } from '../src/audit/seal-audit.ts';
import type { AccessService } from '../src/index.ts';
import { ACCESS_ADMIN, bootAccess, count, criticalGrantsOf, employeePicker, exitConfirmedEvent, grantsOf, knownCase, log, org, poolFor, resignationClosedEvent, serve, type AccessHttp, type DecidedBy } from './support.ts';

/**
 * The access audit as evidence: every entry names its actor (who, in which role, through which client)
 * and whom they acted for; the table is append-only; the entries form a hash chain that
 * GET /api/access-audit/verification walks, reporting the first broken link. Entries are linked into the
 * chain by the service's sealer after their transactions commit: a test that reads hashes waits for it
 * (`sealed()`, the sealer's barrier) first.
 */

const POLL_MS = 200;
const freshEmployee = employeePicker();

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let service: AccessService;
let http: AccessHttp;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessaudit');
  pool = poolFor(testDb, 20);
  bus = createTestPostgresBus(pool, { log, defaultRetry: { maxAttempts: 2, backoffMs: 500 } });
  service = await bootAccess(pool, { bus, reactToEvents: true, timerIntervalMs: POLL_MS });
  await service.start!();
  for (const s of service.subscriptions ?? []) await bus.subscribe(s);
  await bus.start();
  http = await serve(service, pool);
});

afterAll(async () => {
  await http?.app.close();
  await service?.stop?.();
  await bus?.stop();
  await pool?.end();
  await testDb?.drop();
});

const EMS_SERVICE: Actor = { id: 'ems', kind: 'service', name: null, role: 'service', client: 'ems-service-ems' };
const adminPerson = org.employees.find((e) => e.id === ACCESS_ADMIN)!;
/** The HR partner of `employee`, as EMS names the decider on a decision event. */
const partnerOf = (employee: { hrPartnerId: string }): DecidedBy => {
  const partner = org.employees.find((e) => e.id === employee.hrPartnerId);
  return { id: employee.hrPartnerId, kind: 'person', name: partner?.name ?? null, role: 'hr_partner', client: 'ems-web' };
};
const onBehalfOf = (actor: unknown) => ({ [access.ON_BEHALF_OF_HEADER]: Buffer.from(JSON.stringify(actor)).toString('base64url') });

/** Suspends for a new case of `employeeId` (one EMS knows). */
const suspendAccess = (employeeId: string, headers?: Record<string, string>) => http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employeeId), employeeId }, headers);
const verification = async () => {
  const v = await http.call('GET', access.AccessPaths.auditVerification);
  expect(v.status).toBe(200);
  return access.AuditVerification.parse(v.body);
};
const auditRows = () => count(pool, 'SELECT count(*)::int AS n FROM access.audit');
/** Every entry committed so far is linked into the chain (the sealer's barrier, not a sleep). */
const sealed = () => service.auditSealer.drained();

/** Runs `change` as someone with rights on the database would: the append-only triggers switched off, then on again. */
async function tamper(change: string, params: unknown[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE access.audit DISABLE TRIGGER USER');
    await client.query('ALTER TABLE access.audit_chain DISABLE TRIGGER USER');
    await client.query(change, params);
    await client.query('ALTER TABLE access.audit ENABLE TRIGGER USER');
    await client.query('ALTER TABLE access.audit_chain ENABLE TRIGGER USER');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

describe('the actor of every audit entry', () => {
  it('when a hold is created over HTTP with the orchestrator’s service token, then every audit entry names the ems service, its client ems-service-ems, and no one it acted for', async () => {
    const employee = freshEmployee();
    const created = await suspendAccess(employee.id);
    expect(created.status).toBe(201);
    await sealed();

    const entries = await http.audit(`employeeId=${employee.id}`);
    expect(entries.map((e) => e.grantId)).toEqual(criticalGrantsOf(employee.id));
    for (const e of entries) {
      expect(e.actor).toEqual(EMS_SERVICE);
      expect(e.onBehalfOf).toBeNull();
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e).toMatchObject({ pending: false, chainSeq: expect.any(Number) as unknown });
    }
  });

  it('when the orchestrator says on whose behalf it suspends and releases (x-ems-on-behalf-of), then the entries name the ems service as actor and that person as onBehalfOf', async () => {
    const employee = freshEmployee();
    const partner = partnerOf(employee);
    const created = await suspendAccess(employee.id, { ...(await http.identity.callAuth('ems')('access')), ...onBehalfOf(partner) });
    expect(created.status).toBe(201);
    const hold = access.AccessHold.parse(created.body);
    const released = await http.call('POST', access.AccessPaths.release(hold.id), {}, onBehalfOf(partner));
    expect(released.status).toBe(200);

    const entries = await http.audit(`holdId=${hold.id}`);
    expect(entries.map((e) => e.to)).toEqual([...criticalGrantsOf(employee.id).map(() => 'suspended'), ...criticalGrantsOf(employee.id).map(() => 'active')]);
    for (const e of entries) {
      expect(e.actor).toEqual(EMS_SERVICE);
      expect(e.onBehalfOf).toEqual(partner);
    }
  });

  it('when an access administrator revokes an exiting employee’s access now, then every audit entry names that person with the role access_admin and the client they signed in with', async () => {
    const employee = freshEmployee();
    const revoked = await http.call('POST', access.AccessPaths.revocations, { resignationId: knownCase(employee.id), employeeId: employee.id, reason: 'Left today' }, await http.identity.as(ACCESS_ADMIN));
    expect(revoked.status).toBe(201);
    expect(access.Revocation.parse(revoked.body).status).toBe('done');

    const entries = await http.audit(`employeeId=${employee.id}`);
    expect(entries.map((e) => e.grantId)).toEqual(grantsOf(employee.id));
    for (const e of entries) {
      expect(e.actor).toMatchObject({ id: ACCESS_ADMIN, kind: 'person', name: adminPerson.name, role: 'access_admin' });
      expect(e.actor.client).toEqual(expect.any(String));
      expect(e.actor.client).not.toBe('');
      expect(e.onBehalfOf).toBeNull();
    }
  });

  it('when the choreography lifts a hold for a retained event naming who decided, then the entries name the access service (client events) as actor and the decider as onBehalfOf', async () => {
    const employee = freshEmployee();
    const created = await suspendAccess(employee.id);
    const hold = access.AccessHold.parse(created.body);
    const partner = partnerOf(employee);

    await publishInTransaction(pool, bus, [resignationClosedEvent('retained', hold.resignationId, employee, new Date(), partner)]);
    const lifted = await waitFor(async () => {
      const entries = (await http.audit(`holdId=${hold.id}`)).filter((e) => e.to === 'active');
      return entries.length === criticalGrantsOf(employee.id).length ? entries : undefined;
    }, 'the hold to be lifted');

    for (const e of lifted) {
      expect(e.actor).toEqual(EVENTS_ACTOR);
      expect(e.actor).toEqual({ id: 'access', kind: 'service', role: 'service', client: 'events', name: null });
      expect(e.onBehalfOf).toEqual(partner);
    }
  });

  it('when the choreography schedules a revocation for an exit confirmed by someone and the timer fires it, then the entries name the access timer as actor and the decider as onBehalfOf', async () => {
    const employee = freshEmployee();
    const partner = partnerOf(employee);
    const resignationId = randomUUID();
    await publishInTransaction(pool, bus, [exitConfirmedEvent(resignationId, employee, new Date(Date.now() - 1_000), 1, partner)]);

    const revoked = await waitFor(async () => {
      const entries = (await http.audit(`employeeId=${employee.id}`)).filter((e) => e.to === 'revoked');
      return entries.length === grantsOf(employee.id).length ? entries : undefined;
    }, 'the timer to revoke');
    for (const e of revoked) {
      expect(e.actor).toEqual(TIMER_ACTOR);
      expect(e.onBehalfOf).toEqual(partner);
    }
  });

  it('when a person sends x-ems-on-behalf-of, or the orchestrator sends a malformed one, then 400 problem+json names the header and nothing is held, revoked or audited', async () => {
    const employee = freshEmployee();
    const partner = partnerOf(employee);
    const ems = await http.identity.callAuth('ems')('access');
    const malformed: Array<[string, Record<string, string>]> = [
      ['a person (the access administrator) acting for someone', { ...(await http.identity.as(ACCESS_ADMIN)), ...onBehalfOf(partner) }],
      ['not base64url', { ...ems, [access.ON_BEHALF_OF_HEADER]: 'not base64url!' }],
      ['no JSON inside', { ...ems, [access.ON_BEHALF_OF_HEADER]: Buffer.from('{oops').toString('base64url') }],
      ['not an Actor (no role)', { ...ems, ...onBehalfOf({ id: 'hrp-berlin', kind: 'person', name: null, client: 'ems-web' }) }],
      ['not an Actor (unknown kind)', { ...ems, ...onBehalfOf({ ...partner, kind: 'robot' }) }],
      ['not an Actor (extra field)', { ...ems, ...onBehalfOf({ ...partner, admin: true }) }],
    ];
    for (const [what, headers] of malformed) {
      const revoked = await http.call('POST', access.AccessPaths.revocations, { resignationId: knownCase(employee.id), employeeId: employee.id }, headers);
      expect(revoked.status, what).toBe(400);
      expect(revoked.type, what).toContain('application/problem+json');
      expect(revoked.body, what).toMatchObject({ status: 400, title: 'Invalid request' });
      expect((revoked.body as { detail: string }).detail, what).toContain(access.ON_BEHALF_OF_HEADER);
      expect((revoked.body as { errors: Array<{ path: string }> }).errors[0]!.path, what).toContain(`headers.${access.ON_BEHALF_OF_HEADER}`);

      const held = await suspendAccess(employee.id, headers);
      expect(held.status, what).toBe(what.startsWith('a person') ? 403 : 400);
    }
    // The header is checked before EMS is asked about the case: with a case EMS does not know, still 400 for the header.
    const unknown = await http.call('POST', access.AccessPaths.revocations, { resignationId: randomUUID(), employeeId: employee.id }, { ...ems, [access.ON_BEHALF_OF_HEADER]: 'not base64url!' });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { detail: string }).detail).toContain(access.ON_BEHALF_OF_HEADER);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1', [employee.id])).toBe(0);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.revocations WHERE employee_id = $1', [employee.id])).toBe(0);
    expect(Object.values(await http.effective(employee.id)).every((s) => s === 'active')).toBe(true);
  });
});

describe('an append-only audit', () => {
  it('when the service’s own connection tries to UPDATE, DELETE or TRUNCATE audit entries, then the database refuses and the entries are unchanged', async () => {
    const employee = freshEmployee();
    expect((await suspendAccess(employee.id)).status).toBe(201);
    const before = await pool.query('SELECT * FROM access.audit WHERE employee_id = $1 ORDER BY id', [employee.id]);
    const first = before.rows[0] as { id: number };
    const total = await auditRows();

    await expect(pool.query(`UPDATE access.audit SET reason = 'nothing happened' WHERE id = $1`, [first.id])).rejects.toThrow(/append-only: UPDATE of row/);
    await expect(pool.query('DELETE FROM access.audit WHERE id = $1', [first.id])).rejects.toThrow(/append-only: DELETE of row/);
    await expect(pool.query('DELETE FROM access.audit')).rejects.toThrow(/append-only/);
    // Its links in audit_chain name it: a plain TRUNCATE is refused for them, one that cascades by the trigger.
    await expect(pool.query('TRUNCATE access.audit')).rejects.toThrow(/referenced in a foreign key constraint/);
    await expect(pool.query('TRUNCATE access.audit CASCADE')).rejects.toThrow(/append-only: TRUNCATE/);

    expect((await pool.query('SELECT * FROM access.audit WHERE employee_id = $1 ORDER BY id', [employee.id])).rows).toEqual(before.rows);
    expect(await auditRows()).toBe(total);
  });

  it('when the service’s own connection tries to UPDATE, DELETE or TRUNCATE the chain’s links, then the database refuses and the links are unchanged', async () => {
    expect((await suspendAccess(freshEmployee().id)).status).toBe(201);
    await sealed();
    const before = await pool.query('SELECT * FROM access.audit_chain ORDER BY seq');
    const last = before.rows.at(-1) as { seq: number };
    await expect(pool.query(`UPDATE access.audit_chain SET hash = repeat('0', 64) WHERE seq = $1`, [last.seq])).rejects.toThrow(/audit_chain is append-only: UPDATE of row/);
    await expect(pool.query('DELETE FROM access.audit_chain WHERE seq = $1', [last.seq])).rejects.toThrow(/append-only: DELETE of row/);
    await expect(pool.query('TRUNCATE access.audit_chain')).rejects.toThrow(/append-only: TRUNCATE/);
    expect((await pool.query('SELECT * FROM access.audit_chain WHERE seq <= $1 ORDER BY seq', [last.seq])).rows).toEqual(before.rows);
  });

  it('when the tables’ privileges are read, then no one holds UPDATE, DELETE or TRUNCATE on the entries or their links through PUBLIC, nor the role that migrated them', async () => {
    const { rows } = await pool.query<{ grantee: string; privilege_type: string }>(
      `SELECT grantee, privilege_type FROM information_schema.role_table_grants
        WHERE table_schema = 'access' AND table_name IN ('audit', 'audit_chain') AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')`,
    );
    expect(rows).toEqual([]);
  });
});

describe('the hash chain and its verification', () => {
  it('when the chain is intact, then GET /api/access-audit/verification answers ok with the number of entries and the last hash', async () => {
    expect((await suspendAccess(freshEmployee().id)).status).toBe(201);
    await sealed();
    const v = await verification();
    const last = (await pool.query<{ id: number; hash: string }>('SELECT audit_id::int AS id, hash FROM access.audit_chain ORDER BY seq DESC LIMIT 1')).rows[0]!;
    expect(v).toMatchObject({ ok: true, rows: await auditRows(), pending: 0, lastId: last.id, lastHash: last.hash });
    expect(v.summary).toContain('intact');
  });

  it('when many holds are created at once for different employees, then the concurrent audit writers still form one valid chain once sealed, with no entry lost and no gap', async () => {
    const employees = Array.from({ length: 24 }, () => freshEmployee());
    const before = await auditRows();
    const results = await Promise.all(employees.map((e) => suspendAccess(e.id)));
    expect(results.map((r) => r.status)).toEqual(employees.map(() => 201));

    const expected = employees.reduce((n, e) => n + criticalGrantsOf(e.id).length, 0);
    expect(await auditRows()).toBe(before + expected);
    await sealed();
    expect(await verification()).toMatchObject({ ok: true, rows: before + expected, pending: 0 });
    // The same walk in batches smaller than one hold's entries, so the batch boundaries fall everywhere.
    expect(await verifyAuditChain(createKysely<AccessDB>(pool, ACCESS_SCHEMA), 3)).toMatchObject({ ok: true, rows: before + expected, pending: 0 });
    // One chain: positions 1…n without a gap, each entry named once, each link naming the entry before it.
    expect((await pool.query('SELECT count(*)::int AS n, max(seq)::int AS last, count(DISTINCT audit_id)::int AS entries FROM access.audit_chain')).rows[0]).toEqual({
      n: before + expected,
      last: before + expected,
      entries: before + expected,
    });
    const links = await count(pool, `SELECT count(*)::int AS n FROM (SELECT prev_hash, lag(hash) OVER (ORDER BY seq) AS before FROM access.audit_chain) l WHERE prev_hash IS DISTINCT FROM before`);
    expect(links).toBe(0);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.audit_pending')).toBe(0);
  });

  it('when one entry’s reason is altered directly in the database, then verification reports that entry as the first broken link, its content no longer matching its hash', async () => {
    const employee = freshEmployee();
    expect((await suspendAccess(employee.id)).status).toBe(201);
    await sealed();
    const target = (await pool.query<{ id: number; reason: string }>('SELECT id::int, reason FROM access.audit WHERE employee_id = $1 ORDER BY id LIMIT 1', [employee.id])).rows[0]!;
    const checkedUpTo = await count(pool, 'SELECT seq::int AS n FROM access.audit_chain WHERE audit_id = $1', [target.id]);

    await tamper('UPDATE access.audit SET reason = $2 WHERE id = $1', [target.id, 'nothing to see here']);
    try {
      const v = await verification();
      expect(v).toMatchObject({ ok: false, firstBrokenId: target.id, reason: 'hash does not match its content', rows: checkedUpTo });
      expect(v.summary).toContain(`entry ${target.id}`);
    } finally {
      await tamper('UPDATE access.audit SET reason = $2 WHERE id = $1', [target.id, target.reason]);
    }
    expect(await verification()).toMatchObject({ ok: true });
  });

  it('when one entry is deleted directly in the database (with its link), then verification reports the entry after it, whose prev_hash no longer matches', async () => {
    const employee = freshEmployee();
    expect((await suspendAccess(employee.id)).status).toBe(201);
    await sealed();
    // The entries in chain order: the one after `gone` in the chain is the first to break.
    const [gone, next] = (await pool.query<{ id: number }>('SELECT a.id::int FROM access.audit a JOIN access.audit_chain c ON c.audit_id = a.id WHERE a.employee_id = $1 ORDER BY c.seq', [employee.id])).rows;
    const row = (await pool.query('SELECT * FROM access.audit WHERE id = $1', [gone!.id])).rows[0] as Record<string, unknown>;
    const link = (await pool.query('SELECT * FROM access.audit_chain WHERE audit_id = $1', [gone!.id])).rows[0] as Record<string, unknown>;
    const insert = async (table: string, r: Record<string, unknown>) => {
      const columns = Object.keys(r);
      await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => r[c]));
    };

    await tamper('WITH l AS (DELETE FROM access.audit_chain WHERE audit_id = $1) DELETE FROM access.audit WHERE id = $1', [gone!.id]);
    try {
      const v = await verification();
      expect(v).toMatchObject({ ok: false, firstBrokenId: next!.id, reason: "prev_hash does not match the previous row's hash" });
      expect(v.ok === false && v.lastIntactId).not.toBe(gone!.id);
    } finally {
      await insert('access.audit', row);
      await insert('access.audit_chain', link);
    }
    expect(await verification()).toMatchObject({ ok: true });
  });

  it('when a caller may not read the audit (an HR partner), then the verification answers 403 naming verifyAccessAudit', async () => {
    const refused = await http.call('GET', access.AccessPaths.auditVerification, undefined, await http.identity.as('hrp-berlin'));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ permission: 'verifyAccessAudit' });
  });
});

describe('entries written before the chain (migration 4), and the chain moved to audit_chain (migration 9)', () => {
  it('when audit entries exist before the migration, then it backfills their actor, chains them exactly as the service computes hashes, and new entries continue the chain', async () => {
    const legacyDb = await createTestDatabase(inject('testServerUrl'), 'accessauditlegacy');
    const legacy = poolFor(legacyDb, 2);
    try {
      await migrate(legacy, ACCESS_SCHEMA, migrations.filter((m) => m.version < 4));
      const holdId = randomUUID();
      await legacy.query(`INSERT INTO access.identities (employee_id) VALUES ('E-LEGACY')`);
      await legacy.query(`INSERT INTO access.holds (id, resignation_id, employee_id, created_at) VALUES ($1, $2, 'E-LEGACY', now())`, [holdId, randomUUID()]);
      const reasons = ['resignation submitted', 'quotes " and \\ backslash', 'line\nbreak\ttab \u0001 control', 'Müller — naïve 👋 ✓', ''];
      for (const [i, reason] of reasons.entries()) {
        await legacy.query(
          `INSERT INTO access.audit (at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id)
           VALUES ($1, 'E-LEGACY', $2, 'vpn', 'active', 'suspended', $3, $4)`,
          // Microseconds, as a hand-written row may have: the canonical form keeps milliseconds on both sides.
          [`2026-03-0${i + 1} 09:00:00.${String(123456 + i).padStart(6, '0')}+00`, `g-${i}`, reason, i % 2 === 0 ? holdId.toUpperCase() : null],
        );
      }

      await migrate(legacy, ACCESS_SCHEMA, migrations);
      const db = createKysely<AccessDB>(legacy, ACCESS_SCHEMA);
      expect(await verifyAuditChain(db, 2)).toMatchObject({ ok: true, rows: reasons.length, pending: 0 });
      const rows = (
        await legacy.query<{ actor: unknown; on_behalf_of: unknown; prev_hash: string | null }>(
          'SELECT actor, on_behalf_of, prev_hash FROM access.audit a JOIN access.audit_chain c ON c.audit_id = a.id ORDER BY c.seq',
        )
      ).rows;
      expect(rows.map((r) => r.actor)).toEqual(reasons.map(() => BACKFILLED_ACTOR));
      expect(rows.map((r) => r.on_behalf_of)).toEqual(reasons.map(() => null));
      expect(rows[0]!.prev_hash).toBeNull();

      await db.transaction().execute((trx) =>
        recordAudit(trx, { actor: EMS_SERVICE, onBehalfOf: null }, [
          { at: new Date(), employeeId: 'E-LEGACY', grantId: 'g-0', systemId: 'vpn', from: 'suspended', to: 'active', reason: 'released', holdId },
        ]),
      );
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: reasons.length, pending: 1 });
      expect(await sealAllPending(db)).toBe(1);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: reasons.length + 1, pending: 0 });
    } finally {
      await legacy.end();
      await legacyDb.drop();
    }
  });
});

describe('the OpenAPI document', () => {
  it('when it is fetched, then the verification route answers an AccessAuditVerification, audit entries carry actor and onBehalfOf, and every route that changes access documents x-ems-on-behalf-of', async () => {
    type Doc = { paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ in: string; name: string }>; responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> }>>; components: { schemas: Record<string, { required?: string[] }> } };
    const doc = (await http.call('GET', '/openapi.json')).body as Doc;
    const verify = doc.paths['/api/access-audit/verification']!.get!;
    expect(verify.operationId).toBe('verifyAccessAudit');
    expect(verify.responses['200']!.content['application/json']!.schema.$ref).toBe('#/components/schemas/AccessAuditVerification');
    expect(doc.components.schemas['AccessAuditEntry']!.required).toEqual(expect.arrayContaining(['actor', 'onBehalfOf', 'pending', 'chainSeq', 'prevHash', 'hash']));
    for (const [path, method] of [['/api/access-holds', 'post'], ['/api/access-holds/{id}/release', 'post'], ['/api/access-revocations', 'post']] as const) {
      expect(doc.paths[path]![method]!.parameters, path).toContainEqual(expect.objectContaining({ in: 'header', name: access.ON_BEHALF_OF_HEADER }));
    }
  });
});
