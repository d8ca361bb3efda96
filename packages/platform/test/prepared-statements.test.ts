import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { arrayParam, createKysely, createPool, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';

/**
 * Kysely's statements run as named prepared statements (db.ts): parsed once per connection, and still
 * right after a migration changes what a `SELECT *` returns. One connection (max 1), so what
 * pg_prepared_statements shows is the connection the queries ran on.
 */

interface People {
  id: string;
  name: string;
  team?: string | null;
  level?: number | null;
}
interface DB {
  people: People;
}

let tdb: TestDatabase;
let pool: Pool;
let db: Kysely<DB>;
/** Another connection, as a migration run by another process would be. */
let admin: pg.Client;

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'prepare');
  admin = new pg.Client({ connectionString: tdb.url });
  await admin.connect();
  await admin.query('CREATE SCHEMA app');
  await admin.query(`CREATE TABLE app.people (id text PRIMARY KEY, name text NOT NULL)`);
  await admin.query(`INSERT INTO app.people (id, name) SELECT 'p' || i, 'Person ' || i FROM generate_series(1, 20) i`);
  pool = createPool(tdb.url, { max: 1, name: 'prepare-test' });
  db = createKysely<DB>(pool, 'app');
});

afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await tdb?.drop();
});

/** The named statements of the pool's one connection whose text mentions `fragment`, with how often each ran. */
async function preparedOn(fragment: string): Promise<Array<{ name: string; statement: string; runs: number }>> {
  // pool.query is what pg-boss uses: unnamed, so it never shows up here itself.
  const r = await pool.query<{ name: string; statement: string; runs: number }>(
    `SELECT name, statement, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement LIKE '%' || $1 || '%' AND from_sql = false ORDER BY prepare_time`,
    [fragment],
  );
  return r.rows;
}

const byId = (id: string) => db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('when Kysely runs the same statement again on a connection', () => {
  it('then PostgreSQL parses it once and executes the prepared statement each time, with each call’s own values', async () => {
    const names: string[] = [];
    for (let i = 1; i <= 12; i++) names.push((await db.selectFrom('people').select(['name']).where('id', '=', `p${i}`).executeTakeFirstOrThrow()).name);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `Person ${i + 1}`));
    const prepared = await preparedOn('select "name" from "app"."people"');
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.runs).toBe(12);
  });

  it('then statements that are not single DML statements are never prepared: DDL, SET, BEGIN/COMMIT', async () => {
    await sql`create table app.scratch (id int primary key)`.execute(db);
    await db.transaction().execute(async (trx) => {
      await sql`set local statement_timeout = '5s'`.execute(trx);
      await trx.insertInto('people').values({ id: 'tx1', name: 'In a transaction' }).execute();
    });
    const all = await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements WHERE from_sql = false');
    const texts = all.rows.map((r) => r.statement.toLowerCase());
    expect(texts.some((t) => t.startsWith('insert into "app"."people"'))).toBe(true);
    expect(texts.filter((t) => /^(create|set|begin|commit|rollback)/.test(t))).toEqual([]);
  });

  it('then a connection prepares at most 250 distinct texts; the rest run unprepared and still answer', async () => {
    // A connection of its own: this one is full afterwards.
    const own = createPool(tdb.url, { max: 1, name: 'prepare-test-many' });
    try {
      const many = createKysely<DB>(own, 'app');
      for (let i = 0; i < 300; i++) {
        const r = await sql<{ n: number }>`select ${sql.raw(String(i))}::int + ${1}::int as n /* many */`.execute(many);
        expect(r.rows[0]!.n).toBe(i + 1);
      }
      const count = await own.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE from_sql = false AND statement LIKE '%/* many */%'`);
      expect(count.rows[0]!.n).toBe(250);
    } finally {
      await own.end();
    }
  });
});

describe('when a migration adds a column under a prepared SELECT *', () => {
  it('then the next query outside a transaction answers with the new column (the stale statement deallocated, the query run again)', async () => {
    for (let i = 0; i < 6; i++) expect(await byId('p1')).toEqual({ id: 'p1', name: 'Person 1' });
    expect(await preparedOn('select * from "app"."people" where "id"')).toMatchObject([{ runs: 6 }]);

    await admin.query(`ALTER TABLE app.people ADD COLUMN team text NOT NULL DEFAULT 'core'`);

    expect(await byId('p1')).toEqual({ id: 'p1', name: 'Person 1', team: 'core' });
    expect(await byId('p2')).toEqual({ id: 'p2', name: 'Person 2', team: 'core' });
    // The old statement is gone from the connection; one new one in its place.
    const prepared = await preparedOn('select * from "app"."people" where "id"');
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.statement).toMatch(/^select \* from/);
    expect(prepared[0]!.runs).toBe(2);
  });

  it('then inside a transaction the first one fails (PostgreSQL aborted it) and the next transaction sees the new column', async () => {
    expect(await byId('p3')).toMatchObject({ id: 'p3', team: 'core' });
    await admin.query(`ALTER TABLE app.people ADD COLUMN level int`);

    const first = db.transaction().execute((trx) => trx.selectFrom('people').selectAll().where('id', '=', 'p3').executeTakeFirstOrThrow());
    const refused = (await first.then(() => undefined, (err: unknown) => err)) as { code?: string; message?: string } | undefined;
    expect(refused?.code).toBe('0A000');
    expect(refused?.message).toContain('cached plan must not change result type');

    const again = await db.transaction().execute((trx) => trx.selectFrom('people').selectAll().where('id', '=', 'p3').executeTakeFirstOrThrow());
    expect(again).toEqual({ id: 'p3', name: 'Person 3', team: 'core', level: null });
    expect(await byId('p4')).toEqual({ id: 'p4', name: 'Person 4', team: 'core', level: null });
  });
});

describe('when a prepared statement reads the rows of a short array again and again (arrayParam)', () => {
  /** Plans of the connection's named statement whose text mentions `fragment`, after it ran eight times. */
  async function plansAfterEightRuns(where: (ids: string[]) => RawBuilder<boolean>, fragment: string): Promise<{ generic: number; custom: number; found: string[][] }> {
    const found: string[][] = [];
    for (let i = 0; i < 8; i++) {
      const ids = [`s${i + 1}`, `s${i + 100}`];
      const rows = await db.withTables<{ steps: { id: string; name: string } }>().selectFrom('steps').select('id').where(where(ids)).orderBy('id').execute();
      found.push(rows.map((r) => r.id));
    }
    const r = await pool.query<{ generic: number; custom: number }>(
      `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE statement LIKE '%' || $1 || '%' AND from_sql = false`,
      [fragment],
    );
    expect(r.rows).toHaveLength(1);
    return { ...r.rows[0]!, found };
  }

  beforeAll(async () => {
    await admin.query(`CREATE TABLE app.steps (id text PRIMARY KEY, name text NOT NULL)`);
    await admin.query(`INSERT INTO app.steps (id, name) SELECT 's' || i, 'Step ' || i FROM generate_series(1, 5000) i`);
    await admin.query('ANALYZE app.steps');
  });

  it('then PostgreSQL keeps one generic plan after its five first custom ones, and every call still finds its own rows', async () => {
    const { generic, custom, found } = await plansAfterEightRuns((ids) => sql<boolean>`id = any(${arrayParam(ids, 'text')}) /* opaque */`, 'opaque');
    expect(found).toEqual([...Array(8).keys()].map((i) => [`s${i + 1}`, `s${i + 100}`].sort()));
    expect({ generic, custom }).toEqual({ generic: 3, custom: 5 });
  });

  it('then the same statement over a bare array is planned again at every call (what arrayParam is for)', async () => {
    const { generic, custom } = await plansAfterEightRuns((ids) => sql<boolean>`id = any(${ids}::text[]) /* bare */`, 'bare');
    expect({ generic, custom }).toEqual({ generic: 0, custom: 8 });
  });
});
