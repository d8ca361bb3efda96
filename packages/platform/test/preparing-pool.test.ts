import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createPreparingPool, preparedStatements } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';

/**
 * A pool for a library's own SQL (DBOS's system database): its plain-text statements run as named
 * prepared statements, whether through pool.query or a checked-out client, and still right after a
 * migration changes what a `SELECT *` returns. One connection (max 1), so pg_prepared_statements shows
 * the connection the statements ran on.
 */
let tdb: TestDatabase;
let pool: pg.Pool;
let admin: pg.Client;
const errors: Error[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'preppool');
  admin = new pg.Client({ connectionString: tdb.url });
  await admin.connect();
  await admin.query(`CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL)`);
  await admin.query(`INSERT INTO items SELECT 'i' || i, i FROM generate_series(1, 20) i`);
  pool = createPreparingPool(tdb.url, { max: 1, applicationName: 'preparing-pool-test', prefix: 'lib', sessionSettings: { idle_in_transaction_session_timeout: 45_000 }, onError: (err) => errors.push(err) });
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await tdb?.drop();
});

async function preparedOn(fragment: string): Promise<Array<{ name: string; runs: number }>> {
  const c = await pool.connect();
  try {
    // An object query is passed through as it is: this one is not prepared itself.
    const r = await c.query<{ name: string; runs: number }>({
      text: `SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement LIKE '%' || $1 || '%' AND from_sql = false`,
      values: [fragment],
    });
    return r.rows;
  } finally {
    c.release();
  }
}

describe('when a library runs the same statement text again', () => {
  it('then PostgreSQL parses it once per connection and runs the prepared statement with each call’s values, through pool.query and a checked-out client alike', async () => {
    for (let i = 1; i <= 6; i++) {
      const r = await pool.query<{ n: number }>(`SELECT n FROM items WHERE id=$1`, [`i${i}`]);
      expect(r.rows).toEqual([{ n: i }]);
    }
    const c = await pool.connect();
    try {
      await new Promise<void>((resolve, reject) =>
        // The callback form, as pg-pool itself calls it.
        c.query(`SELECT n FROM items WHERE id=$1`, ['i7'], (err: Error | undefined, r: pg.QueryResult<{ n: number }>) => {
          if (err) return reject(err);
          expect(r.rows).toEqual([{ n: 7 }]);
          resolve();
        }),
      );
    } finally {
      c.release();
    }
    const prepared = await preparedOn('FROM items WHERE id=$1');
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.name).toMatch(/^lib_\d+_\d+$/);
    expect(prepared[0]!.runs).toBe(7);
  });

  it('then transaction control, settings and multi-statement texts run as before, unnamed', async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await c.query(`UPDATE items SET n = n + 100 WHERE id=$1`, ['i20']);
      await c.query('ROLLBACK');
      await c.query(`SELECT 1; SELECT 2`);
      // The session setting was applied on connect.
      expect((await c.query<{ t: string }>({ text: `SELECT current_setting('idle_in_transaction_session_timeout') AS t` })).rows[0]!.t).toBe('45s');
    } finally {
      c.release();
    }
    expect((await pool.query<{ n: number }>(`SELECT n FROM items WHERE id=$1`, ['i20'])).rows).toEqual([{ n: 20 }]);
    expect(await preparedOn('BEGIN')).toEqual([]);
    expect(await preparedOn('SELECT 2')).toEqual([]);
    expect(await preparedOn('UPDATE items')).toHaveLength(1);
  });

  it('then a statement whose plan a migration made stale runs again outside a transaction, and fails its transaction inside one', async () => {
    const byId = (q: { query: pg.Pool['query'] }) => q.query<Record<string, unknown>>(`SELECT * FROM items WHERE id=$1`, ['i3']);
    expect((await byId(pool)).rows).toEqual([{ id: 'i3', n: 3 }]);
    await admin.query(`ALTER TABLE items ADD COLUMN label text DEFAULT 'x'`);
    // Autocommitted: refused as stale, then run once more and answered with the new column.
    expect((await byId(pool)).rows).toEqual([{ id: 'i3', n: 3, label: 'x' }]);
    // Prepared again under the new generation's name.
    expect((await byId(pool)).rows).toEqual([{ id: 'i3', n: 3, label: 'x' }]);
    await admin.query(`ALTER TABLE items ADD COLUMN rank int DEFAULT 1`);
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await expect(byId(c as unknown as { query: pg.Pool['query'] })).rejects.toMatchObject({ code: '0A000' });
      await c.query('ROLLBACK');
      // The next generation's name prepares afresh.
      expect((await byId(c as unknown as { query: pg.Pool['query'] })).rows).toEqual([{ id: 'i3', n: 3, label: 'x', rank: 1 }]);
    } finally {
      c.release();
    }
    expect(errors).toEqual([]);
  });
});

describe('when two users name their statements on the same connection (Kysely ems_, pg-boss bus_)', () => {
  it('then each prepares its own names for the same text, and a stale plan makes only the refused user deallocate its old name and prepare the next generation', async () => {
    const own = new pg.Pool({ connectionString: tdb.url, max: 1 });
    own.on('error', (err) => errors.push(err));
    const aa = preparedStatements({ prefix: 'aa' });
    const bb = preparedStatements({ prefix: 'bb' });
    const text = `SELECT * FROM items WHERE id=$1 /* two users */`;
    const c = await own.connect();
    try {
      const names = async () =>
        (await c.query<{ name: string }>({ text: `SELECT name FROM pg_prepared_statements WHERE statement LIKE '%/* two users */%' AND from_sql = false ORDER BY name` })).rows.map((r) => r.name);
      expect((await aa.query(c, text, ['i5'])).rows).toMatchObject([{ id: 'i5', n: 5 }]);
      expect((await bb.query(c, text, ['i6'])).rows).toMatchObject([{ id: 'i6', n: 6 }]);
      expect(await names()).toEqual(['aa_0_1', 'bb_0_1']);

      await admin.query(`ALTER TABLE items ADD COLUMN note text DEFAULT 'n'`);
      // Outside a transaction: refused as stale, deallocated, prepared again under the next generation, answered.
      expect((await aa.query(c, text, ['i5'])).rows).toMatchObject([{ id: 'i5', n: 5, note: 'n' }]);
      expect(await names()).toEqual(['aa_1_1', 'bb_0_1']);
      expect((await bb.query(c, text, ['i6'])).rows).toMatchObject([{ id: 'i6', n: 6, note: 'n' }]);
      expect(await names()).toEqual(['aa_1_1', 'bb_1_1']);
    } finally {
      c.release();
      await own.end();
    }
  });
});

describe('when a caller queues statements without awaiting them, just after another connection found a plan stale', () => {
  it('then they reach the server in the order asked: the old names are deallocated before them, not between them', async () => {
    const two = createPreparingPool(tdb.url, { max: 2, applicationName: 'preparing-pool-order', prefix: 'ord', onError: (err) => errors.push(err) });
    const a = await two.connect();
    const b = await two.connect();
    try {
      const byId = `SELECT * FROM items WHERE id=$1 /* order */`;
      await a.query(byId, ['i1']);
      await b.query(byId, ['i1']);
      await admin.query(`ALTER TABLE items ADD COLUMN size int DEFAULT 0`);
      // a finds the plan stale: a new generation for the pool; b still holds the old generation's name.
      expect((await a.query<{ size: number }>(byId, ['i1'])).rows[0]!.size).toBe(0);
      // b: BEGIN, INSERT, ROLLBACK queued at once — the INSERT must run inside the transaction and be rolled back.
      await Promise.all([b.query('BEGIN'), b.query(`INSERT INTO items (id, n) VALUES ($1, $2)`, ['queued', 1]), b.query('ROLLBACK')]);
      expect((await admin.query(`SELECT count(*)::int AS n FROM items WHERE id = 'queued'`)).rows).toEqual([{ n: 0 }]);
      const left = await b.query<{ name: string }>({ text: `SELECT name FROM pg_prepared_statements WHERE name LIKE 'ord%'` });
      expect(left.rows.map((r) => r.name)).toEqual(['ord_1_2']);
    } finally {
      a.release();
      b.release();
      await two.end();
    }
    expect(errors).toEqual([]);
  });
});
