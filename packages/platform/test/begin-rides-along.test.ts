import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { createKysely, createPool, createPreparingPool, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';

/**
 * A transaction's BEGIN rides with its first statement (preparing-pool.ts): one round trip fewer per
 * transaction, the same transaction to the caller. Each pool has one connection (max 1); the server's
 * ReadyForQuery messages on it are counted — one per round trip — and what a transaction did is read
 * from another connection.
 */

interface Items {
  id: string;
  n: number;
}
interface DB {
  items: Items;
}

let tdb: TestDatabase;
let admin: pg.Client;
let kyselyPool: Pool;
let db: Kysely<DB>;
let libPool: pg.Pool;
const errors: Error[] = [];
/** ReadyForQuery messages each pool's connection received: the round trips it made. */
const trips = { kysely: 0, lib: 0 };

function countTrips(pool: pg.Pool, key: keyof typeof trips): void {
  pool.on('connect', (client) => {
    (client as unknown as { connection: { on(event: 'readyForQuery', f: () => void): void } }).connection.on('readyForQuery', () => trips[key]++);
  });
}

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'beginrides');
  admin = new pg.Client({ connectionString: tdb.url });
  await admin.connect();
  await admin.query('CREATE SCHEMA app');
  await admin.query(`CREATE TABLE app.items (id text PRIMARY KEY, n int NOT NULL CHECK (n >= 0))`);
  kyselyPool = createPool(tdb.url, { max: 1, name: 'begin-rides-kysely' });
  countTrips(kyselyPool, 'kysely');
  db = createKysely<DB>(kyselyPool, 'app');
  libPool = createPreparingPool(tdb.url, { max: 1, applicationName: 'begin-rides-lib', prefix: 'lib', onError: (err) => errors.push(err) });
  countTrips(libPool, 'lib');
});

afterAll(async () => {
  await db?.destroy();
  await libPool?.end();
  await admin?.end();
  await tdb?.drop();
});

beforeEach(async () => {
  await admin.query('TRUNCATE app.items');
  await admin.query(`INSERT INTO app.items VALUES ('a', 1), ('b', 2)`);
});

const nOf = async (id: string) => (await admin.query<{ n: number }>('SELECT n FROM app.items WHERE id = $1', [id])).rows[0]?.n;

/** Round trips `work` made on the pool's connection (a warm connection: the first statement opens it). */
async function tripsOf(key: keyof typeof trips, work: () => Promise<unknown>): Promise<number> {
  const before = trips[key];
  await work();
  return trips[key] - before;
}

describe('when a Kysely transaction writes', () => {
  it('then its BEGIN goes with the first statement: BEGIN, two statements and COMMIT make three round trips, and the writes commit together', async () => {
    await db.selectFrom('items').select('n').where('id', '=', 'a').execute(); // connection open
    const made = await tripsOf('kysely', () =>
      db.transaction().execute(async (trx) => {
        await trx.updateTable('items').set({ n: 10 }).where('id', '=', 'a').execute();
        // Still inside the transaction: not yet visible to another connection.
        expect(await nOf('a')).toBe(1);
        await trx.updateTable('items').set({ n: 20 }).where('id', '=', 'b').execute();
      }),
    );
    expect(made).toBe(3);
    expect([await nOf('a'), await nOf('b')]).toEqual([10, 20]);
  });

  it('then a transaction that throws after its first statement is rolled back on the server', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('items').set({ n: 10 }).where('id', '=', 'a').execute();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await nOf('a')).toBe(1);
  });

  it('then a first statement that fails reaches the caller, the transaction is aborted and rolled back, and the connection serves the next caller', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable('items').set({ n: -1 }).where('id', '=', 'a').execute();
      }),
    ).rejects.toMatchObject({ code: '23514' });
    // The failed first statement ran inside the transaction (its BEGIN had run with it): the transaction is aborted.
    await expect(
      db.transaction().execute(async (trx) => {
        await expect(trx.updateTable('items').set({ n: -1 }).where('id', '=', 'a').execute()).rejects.toMatchObject({ code: '23514' });
        await trx.updateTable('items').set({ n: 7 }).where('id', '=', 'b').execute();
      }),
    ).rejects.toMatchObject({ code: '25P02' });
    expect([await nOf('a'), await nOf('b')]).toEqual([1, 2]);
    expect(await db.selectFrom('items').select('n').where('id', '=', 'a').executeTakeFirst()).toEqual({ n: 1 });
  });

  it('then a transaction with no statement sends nothing at all', async () => {
    await db.selectFrom('items').select('n').where('id', '=', 'a').execute();
    expect(await tripsOf('kysely', () => db.transaction().execute(async () => 'nothing'))).toBe(0);
    // And the connection is not left inside a transaction: the next write is seen at once.
    await db.updateTable('items').set({ n: 3 }).where('id', '=', 'a').execute();
    expect(await nOf('a')).toBe(3);
  });

  it('then its isolation level holds for its first statement, and a setting made first (SET LOCAL, no parameters) is inside it', async () => {
    const seen = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`SET LOCAL lock_timeout = '1234ms'`.execute(trx);
        const r = await sql<{ iso: string; lt: string }>`SELECT current_setting('transaction_isolation') AS iso, current_setting('lock_timeout') AS lt`.execute(trx);
        return r.rows[0];
      });
    expect(seen).toEqual({ iso: 'repeatable read', lt: '1234ms' });
    // SET LOCAL ended with the transaction.
    expect((await sql<{ lt: string }>`SELECT current_setting('lock_timeout') AS lt`.execute(db)).rows[0]!.lt).toBe('0');
  });
});

describe("when a library's pool (DBOS's) runs a transaction of its own", () => {
  it('then BEGIN ISOLATION LEVEL … goes with the first statement, and the transaction commits or rolls back as it did', async () => {
    await libPool.query('SELECT n FROM app.items WHERE id=$1', ['a']);
    const c = await libPool.connect();
    try {
      const made = await tripsOf('lib', async () => {
        await c.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        await c.query('UPDATE app.items SET n = n + 1 WHERE id=$1', ['a']);
        expect(await nOf('a')).toBe(1);
        await c.query('COMMIT');
      });
      expect(made).toBe(2);
      expect(await nOf('a')).toBe(2);
      await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      expect((await c.query<{ iso: string }>(`SELECT current_setting('transaction_isolation') AS iso WHERE $1::int = 1`, [1])).rows).toEqual([{ iso: 'serializable' }]);
      await c.query('UPDATE app.items SET n = n + 1 WHERE id=$1', ['a']);
      await c.query('ROLLBACK');
      expect(await nOf('a')).toBe(2);
    } finally {
      c.release();
    }
  });

  it('then a text of several statements, or a query given as an object, runs after the BEGIN inside the transaction', async () => {
    const c = await libPool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`UPDATE app.items SET n = 30 WHERE id = 'a'; UPDATE app.items SET n = 40 WHERE id = 'b'`);
      await c.query('ROLLBACK');
      expect([await nOf('a'), await nOf('b')]).toEqual([1, 2]);
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const r = await c.query<{ iso: string }>({ text: `SELECT current_setting('transaction_isolation') AS iso` });
      expect(r.rows).toEqual([{ iso: 'repeatable read' }]);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });

  it('then a connection given back holding a BEGIN no statement followed leaves nothing open: the next caller’s write is autocommitted', async () => {
    const c = await libPool.connect();
    await c.query('BEGIN');
    c.release();
    await libPool.query('UPDATE app.items SET n = 9 WHERE id=$1', ['b']);
    expect(await nOf('b')).toBe(9);
    expect(errors).toEqual([]);
  });
});
