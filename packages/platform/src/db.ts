import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';

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

/** A Kysely instance bound to one PostgreSQL schema: a service only ever sees its own tables. */
export function createKysely<DB>(pool: Pool, schema: string): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) }).withSchema(schema);
}

/*
 * Named prepared statements for Kysely's queries.
 *
 * Without a name, pg sends every statement as an unnamed one: PostgreSQL parses, analyses and plans it
 * again at each call — measured here, it spent more CPU planning EMS's statements than executing them.
 * A named statement is parsed once per connection, and after five executions PostgreSQL may keep a
 * generic plan (plan_cache_mode auto: only when it costs no more than the custom plans did). Same round
 * trips: pg sends Parse with the first Bind/Execute.
 *
 * Safe because:
 * - only single DML statements are named (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, MERGE, with no
 *   `;`): never DDL, SET, BEGIN/COMMIT or a multi-statement text;
 * - the name comes from the text (one id per distinct text in this process), so pg never sees one name for
 *   two texts; at most MAX_TEXTS texts get an id, at most MAX_PER_CONNECTION are prepared on a connection
 *   (the rest run unnamed, as before): the memory a backend keeps for them is bounded;
 * - a migration that changes a statement's result type (a column added under `SELECT *` or `RETURNING *`)
 *   makes PostgreSQL refuse the cached plan ("cached plan must not change result type", 0A000). The first
 *   such refusal starts a new generation of names for the whole process: every connection drops its old
 *   statements (DEALLOCATE, before its next statement outside a transaction) and prepares afresh. A
 *   statement refused outside a transaction is run again once; inside one, the transaction is already
 *   aborted, so the error reaches the caller (a retryable failure, once per connection at most); the
 *   connection's next statement after it runs unnamed until the transaction ends.
 * - only this process's Kysely instances use it: pg-boss (`pool.query`, unnamed) and DBOS (its own pool)
 *   are unaffected, even on the same connections.
 */
const MAX_TEXTS = 5_000;
const MAX_PER_CONNECTION = 250;
const PREPARABLE = /^\s*(select|insert|update|delete|with|values|merge)\b/i;
const TRANSACTION_START = /^\s*(begin|start\s+transaction)\b/i;
const TRANSACTION_END = /^\s*(commit|rollback|end|abort)\s*$/i;

/** Process-wide: an id per statement text, and the generation of names (bumped when a plan goes stale). */
const statementIds = new Map<string, number>();
let generation = 0;

interface ConnectionState {
  generation: number;
  /** Names prepared on this connection, in this generation. */
  prepared: Set<string>;
  /** Names of earlier generations still allocated on the server. */
  stale: string[];
  inTransaction: boolean;
}

/** A statement-text's id, or undefined when it is not one to prepare (or the process has seen too many texts). */
function statementId(sql: string): number | undefined {
  const known = statementIds.get(sql);
  if (known !== undefined) return known;
  if (statementIds.size >= MAX_TEXTS || !PREPARABLE.test(sql) || sql.includes(';')) return undefined;
  const id = statementIds.size + 1;
  statementIds.set(sql, id);
  return id;
}

/** PostgreSQL refusing a prepared statement whose plan a schema change made stale, or one it no longer has. */
export function isStalePreparedStatement(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '')) || e?.code === '26000';
}

type KyselyPool = ConstructorParameters<typeof PostgresDialect>[0]['pool'];
type PoolClientLike = Awaited<ReturnType<Extract<KyselyPool, { connect: unknown }>['connect']>>;

/** The pool as Kysely sees it: each client it hands out names the statements it runs (see above). */
export function preparingPool(pool: Pool): KyselyPool {
  const wrapped = new WeakMap<pg.PoolClient, PoolClientLike>();
  const states = new WeakMap<pg.PoolClient, ConnectionState>();
  const stateOf = (client: pg.PoolClient) => {
    let st = states.get(client);
    if (!st) states.set(client, (st = { generation, prepared: new Set(), stale: [], inTransaction: false }));
    return st;
  };

  async function run(client: pg.PoolClient, sql: string, parameters: readonly unknown[], retried = false): Promise<pg.QueryResult> {
    const st = stateOf(client);
    // Before BEGIN too: a transaction that starts after a schema change then runs on fresh statements.
    if (st.generation !== generation && !st.inTransaction) {
      // A schema change made a plan stale somewhere: drop this connection's statements before preparing new ones.
      st.stale.push(...st.prepared);
      st.prepared = new Set();
      st.generation = generation;
      if (st.stale.length > 0) {
        const names = st.stale.splice(0);
        // One round trip; a name the server no longer has (26000) ends it early: what is left stays allocated until the connection closes.
        await client.query(names.map((n) => `DEALLOCATE ${quoteIdent(n)}`).join('; ')).catch(() => undefined);
      }
    }
    if (TRANSACTION_START.test(sql)) st.inTransaction = true;
    else if (TRANSACTION_END.test(sql)) st.inTransaction = false;
    const id = st.generation === generation ? statementId(sql) : undefined;
    const name = id === undefined ? undefined : `ems_${generation}_${id}`;
    if (name === undefined || (!st.prepared.has(name) && st.prepared.size >= MAX_PER_CONNECTION)) return client.query(sql, [...parameters]);
    try {
      const result = await client.query({ name, text: sql, values: [...parameters] });
      st.prepared.add(name);
      return result;
    } catch (err) {
      if (!isStalePreparedStatement(err)) {
        // Usually the execution failed (a unique violation) and the statement stays prepared; pg itself
        // tracks whether Parse succeeded, this set only bounds and later deallocates them.
        st.prepared.add(name);
        throw err;
      }
      if (st.generation === generation) generation++;
      if ((err as { code?: string }).code !== '26000') st.prepared.add(name);
      if (st.inTransaction || retried) throw err;
      return run(client, sql, parameters, true);
    }
  }

  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        w = {
          query: ((sqlOrCursor: string | object, parameters?: readonly unknown[]) =>
            typeof sqlOrCursor === 'string' ? run(client, sqlOrCursor, parameters ?? []) : client.query(sqlOrCursor as pg.Submittable)) as unknown as PoolClientLike['query'],
          release: (destroy?: boolean) => {
            // A connection handed back mid-transaction is destroyed by Kysely; one reused starts outside any.
            stateOf(client).inTransaction = false;
            client.release(destroy);
          },
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
