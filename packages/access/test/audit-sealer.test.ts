import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql } from 'kysely';
import { createKysely, migrate, type Actor, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { ACCESS_SCHEMA, type AccessDB, type AccessDb } from '../src/db/access.db.ts';
import { migrations } from '../src/db/migrations.ts';
import { recordAudit, AUDIT_CHAIN_LOCK, type AuditChange } from '../src/audit/record-audit.ts';
import { createAuditSealer, sealAllPending, sealAuditBatch } from '../src/audit/seal-audit.ts';
import { describeVerification, verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { listAudit } from '../src/audit/list-audit.ts';
import { log, poolFor } from './support.ts';

/**
 * The audit chain sealed after the fact: writers insert entries without the chain's lock, the sealer links
 * them in its own order. On a real PostgreSQL, with no service running, so each test decides when the
 * sealer runs: entries pending until then, commit order, a sealer that dies mid-way, many writers and two
 * sealers at once.
 */

let testDb: TestDatabase;
let pool: Pool;
let db: AccessDb;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accesssealer');
  pool = poolFor(testDb, 30);
  await migrate(pool, ACCESS_SCHEMA, migrations);
  db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
});

afterAll(async () => {
  await pool?.end();
  await testDb?.drop();
});

const by = { actor: { id: 'ems', kind: 'service', name: null, role: 'service', client: 'ems-service-ems' } satisfies Actor, onBehalfOf: null };
let n = 0;
const change = (employeeId: string, over: Partial<AuditChange> = {}): AuditChange => ({
  at: new Date(Date.UTC(2026, 2, 2, 9, 0, 0, n++)),
  employeeId,
  grantId: `g-${n}`,
  systemId: 'vpn',
  from: 'active',
  to: 'suspended',
  reason: 'resignation submitted',
  holdId: null,
  ...over,
});
const write = (...changes: AuditChange[]) => db.transaction().execute((trx) => recordAudit(trx, by, changes));
const idsOf = async (employeeId: string) => (await pool.query<{ id: number }>('SELECT id::int FROM access.audit WHERE employee_id = $1 ORDER BY id', [employeeId])).rows.map((r) => r.id);
const seqOf = async (auditId: number) => (await pool.query<{ seq: number | null }>('SELECT (SELECT seq::int FROM access.audit_chain WHERE audit_id = $1) AS seq', [auditId])).rows[0]!.seq;
const chainShape = async () =>
  (
    await pool.query<{ n: number; last: number | null; entries: number; misl: number; pending: number; unsealed: number }>(
      `SELECT count(*)::int AS n, max(seq)::int AS last, count(DISTINCT audit_id)::int AS entries,
              (SELECT count(*)::int FROM (SELECT prev_hash, lag(hash) OVER (ORDER BY seq) AS before FROM access.audit_chain) l WHERE prev_hash IS DISTINCT FROM before) AS misl,
              (SELECT count(*)::int FROM access.audit_pending) AS pending,
              (SELECT count(*)::int FROM access.audit a WHERE NOT EXISTS (SELECT 1 FROM access.audit_chain c WHERE c.audit_id = a.id)) AS unsealed
         FROM access.audit_chain`,
    )
  ).rows[0]!;

describe('entries before the sealer runs', () => {
  it('when entries are written and not yet sealed, then the audit lists them as pending, the verification counts them as pending, and once sealed they are linked and verified', async () => {
    await sealAllPending(db);
    const before = await verifyAuditChain(db);
    await write(change('E-PENDING'), change('E-PENDING', { grantId: 'g-second' }));

    const listed = await listAudit(db, { employeeId: 'E-PENDING', limit: 50, offset: 0 });
    expect(listed.items.map((e) => ({ pending: e.pending, chainSeq: e.chainSeq, prevHash: e.prevHash, hash: e.hash }))).toEqual([
      { pending: true, chainSeq: null, prevHash: null, hash: null },
      { pending: true, chainSeq: null, prevHash: null, hash: null },
    ]);
    const waiting = await verifyAuditChain(db);
    expect(waiting).toMatchObject({ ok: true, rows: before.rows, pending: 2 });
    expect(describeVerification(waiting, new Date()).summary).toContain('2 entries were written but not linked into the chain yet');

    expect(await sealAuditBatch(db, 100)).toBe(2);
    const sealedList = (await listAudit(db, { employeeId: 'E-PENDING', limit: 50, offset: 0 })).items;
    expect(sealedList.every((e) => !e.pending && /^[0-9a-f]{64}$/.test(e.hash ?? ''))).toBe(true);
    expect(sealedList[1]!.prevHash).toBe(sealedList[0]!.hash);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: before.rows + 2, pending: 0, lastId: sealedList[1]!.id, lastHash: sealedList[1]!.hash });
  });

  it('when the chain’s lock is held (a sealer at work), then a writer still records its entries without waiting for it', async () => {
    const sealer = await pool.connect();
    try {
      await sealer.query('BEGIN');
      await sealer.query('SELECT pg_advisory_xact_lock(hashtext($1))', [AUDIT_CHAIN_LOCK]);
      // Were the writer to take the chain's lock, it would fail here with lock_timeout instead of hanging.
      await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = '5s'`.execute(trx);
        await recordAudit(trx, by, [change('E-UNBLOCKED')]);
      });
      expect(await idsOf('E-UNBLOCKED')).toHaveLength(1);
    } finally {
      await sealer.query('ROLLBACK');
      sealer.release();
    }
  });
});

describe('commit order', () => {
  it('when an entry with a lower id commits after a higher one was sealed, then it is linked after it, and the chain verifies', async () => {
    await sealAllPending(db);
    let inserted!: () => void;
    let release!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const releaseP = new Promise<void>((r) => (release = r));
    // T1 takes the lower id and stays open.
    const slow = db.transaction().execute(async (trx) => {
      await recordAudit(trx, by, [change('E-SLOW')]);
      inserted();
      await releaseP;
    });
    await insertedP;
    await write(change('E-FAST'));
    // Only what has committed is sealed: E-FAST, not the open E-SLOW.
    expect(await sealAuditBatch(db, 100)).toBe(1);
    release();
    await slow;
    expect(await sealAuditBatch(db, 100)).toBe(1);

    const [slowId] = await idsOf('E-SLOW');
    const [fastId] = await idsOf('E-FAST');
    expect(slowId!).toBeLessThan(fastId!);
    expect(await seqOf(slowId!)).toBe((await seqOf(fastId!))! + 1);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, pending: 0, lastId: slowId });
  });
});

describe('a sealer that dies mid-way', () => {
  it('when a sealer’s transaction is cut off after linking entries but before committing, then they stay pending, nothing is lost, and the next sealer links them', async () => {
    await sealAllPending(db);
    await write(change('E-CRASH'), change('E-CRASH'), change('E-CRASH'));
    const dying = await pool.connect();
    // The terminated connection reports its end as an error event: expected here.
    dying.on('error', () => undefined);
    try {
      await dying.query('BEGIN');
      await dying.query('SELECT pg_advisory_xact_lock(hashtext($1))', [AUDIT_CHAIN_LOCK]);
      const { rows } = await dying.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // It took them off the queue (as sealing does) … and its process dies before COMMIT.
      expect((await dying.query('DELETE FROM access.audit_pending')).rowCount).toBeGreaterThanOrEqual(3);
      await pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await expect(dying.query('COMMIT')).rejects.toThrow();
    } finally {
      dying.release(true);
    }

    expect((await verifyAuditChain(db)).pending).toBe(3);
    expect(await sealAllPending(db)).toBe(3);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, pending: 0 });
    expect(await chainShape()).toMatchObject({ misl: 0, pending: 0, unsealed: 0 });
  });
});

describe('many writers, two sealers', () => {
  it('when 60 transactions write entries at once while two sealers run in small batches, then every entry is linked once, positions have no gap, and the chain verifies', async () => {
    const other = poolFor(testDb, 4);
    const sealers = [createAuditSealer({ db, log }, { intervalMs: 5, batch: 7 }), createAuditSealer({ db: createKysely<AccessDB>(other, ACCESS_SCHEMA), log }, { intervalMs: 5, batch: 5 })];
    try {
      for (const s of sealers) s.start();
      const before = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.audit')).rows[0]!.n;
      await Promise.all(Array.from({ length: 60 }, (_, i) => write(change(`E-MANY-${i}`), change(`E-MANY-${i}`), change(`E-MANY-${i}`))));
      for (const s of sealers) await s.drained();

      const total = before + 180;
      expect(await chainShape()).toEqual({ n: total, last: total, entries: total, misl: 0, pending: 0, unsealed: 0 });
      expect(await verifyAuditChain(db, 13)).toMatchObject({ ok: true, rows: total, pending: 0 });
    } finally {
      for (const s of sealers) await s.stop();
      await other.end();
    }
  });
});
