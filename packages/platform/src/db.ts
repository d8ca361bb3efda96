import pg from 'pg';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { preparedStatements } from './preparing-pool.ts';

export type Pool = pg.Pool;

// DATE columns stay 'YYYY-MM-DD' strings: a calendar day must never shift with the process time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
// BIGINT counts fit comfortably in a JS number for our tables.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export function createPool(connectionString: string, options: { max?: number; name?: string } = {}): Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.name ?? 'ems',
    // A connection idle this long closes. Long enough that a quiet minute keeps each connection's
    // prepared statements and generic plans (at 10 s, a pause between bursts dropped them, and the
    // next burst planned every statement five times again); `max` still bounds what a process holds.
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its connection (e.g. the server restarts) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` in a transaction on one connection of `pool`: committed when it returns, rolled back when it
 * throws (the error reaches the caller), the connection released either way. For code below Kysely (the
 * event bus, migrations, DBOS's neighbours) that speaks to pg directly.
 */
export async function withTransaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A Kysely instance bound to one PostgreSQL schema: a service only ever sees its own tables. */
export function createKysely<DB>(pool: Pool, schema: string): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) }).withSchema(schema);
}

/*
 * Kysely's statements run as named prepared statements (preparing-pool.ts: the rules, the bounds, what
 * a stale plan does). Their names are the process's own (ems_…, one id per distinct text across every
 * Kysely instance of the process, at most 5,000 texts, 250 per connection); pg-boss's statements on the
 * same connections have names of their own (bus_…), and DBOS has a pool of its own.
 */
const kyselyStatements = preparedStatements({ prefix: 'ems', maxTexts: 5_000, maxPerConnection: 250 });

type KyselyPool = ConstructorParameters<typeof PostgresDialect>[0]['pool'];
type PoolClientLike = Awaited<ReturnType<Extract<KyselyPool, { connect: unknown }>['connect']>>;

/** The pool as Kysely sees it: each client it hands out names the statements it runs (see above). */
export function preparingPool(pool: Pool): KyselyPool {
  const wrapped = new WeakMap<pg.PoolClient, PoolClientLike>();
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        w = {
          query: ((sqlOrCursor: string | object, parameters?: readonly unknown[]) =>
            typeof sqlOrCursor === 'string' ? kyselyStatements.query(client, sqlOrCursor, parameters ?? []) : client.query(sqlOrCursor as pg.Submittable)) as unknown as PoolClientLike['query'],
          release: (destroy?: boolean) => client.release(destroy),
        };
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

/** Replaces the database name of a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** Creates a database if it does not exist (CREATE DATABASE cannot run in a transaction or take IF NOT EXISTS). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
      } catch (err) {
        // Another process created it first.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await admin.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** True when the error is PostgreSQL's unique_violation, optionally on a named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** The element types arrayParam passes. */
export type ArrayParamType = 'uuid' | 'text' | 'bigint' | 'int' | 'timestamptz' | 'jsonb';

/**
 * An array parameter that leaves a prepared statement on its generic plan: `(SELECT $n::type[])::type[]` where a bare
 * `$n::type[]` would be, in `= ANY(…)` or in `unnest(…)`.
 *
 * PostgreSQL plans a named statement's first five executions with its parameters' values (custom plans), then
 * keeps one generic plan only if that costs no more than the custom plans did. Given a bare array, a custom plan
 * counts it (one to three elements in a burst's batches) while the generic plan guesses ten, so the generic plan
 * always looks dearer and the statement is planned again at every call — measured, the statements a case ran this
 * way were about two thirds of PostgreSQL's planning per orchestrated case and half of a choreographed one's (bench:
 * `plans` and `planMs` per case; README, "the lean path, thirty-first round"). Behind an
 * init plan the array is a value the planner cannot look into in either plan: both guess ten, the generic plan is
 * kept, and the index is still used (the init plan's value is a constant for the scan).
 *
 * For statements that run per case with small batches. A one-off statement over a large array (a mass exit's batch)
 * is better planned for its size: there, pass the array bare.
 */
export function arrayParam(values: readonly unknown[], type: ArrayParamType): RawBuilder<unknown[]> {
  const t = sql.raw(type);
  // The cast outside makes it an expression: `= ANY((SELECT …))` alone would be ANY over a subquery's rows.
  return sql<unknown[]>`(SELECT ${values}::${t}[])::${t}[]`;
}
