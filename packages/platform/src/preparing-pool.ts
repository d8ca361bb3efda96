import pg from 'pg';

/*
 * Named prepared statements: the one implementation, for every pool that names its statements —
 * Kysely's (db.ts: createKysely), pg-boss's (the event bus's executeSql) and the pool of a library that
 * runs its own SQL (createPreparingPool below: DBOS's system database).
 *
 * Without a name, pg sends every statement as an unnamed one: PostgreSQL parses, analyses and plans it
 * again at each call — measured here, it spent more CPU planning EMS's statements than executing them
 * (DBOS's `SELECT status FROM workflow_status WHERE workflow_uuid=$1` ran 15 times per case, pg-boss's
 * job fetch 5.6 times, each one planned). A named statement is parsed once per connection, and after
 * five executions PostgreSQL may keep a generic plan (plan_cache_mode auto: only when it costs no more
 * than the custom plans did). Same round trips: pg sends Parse with the first Bind/Execute, and skips it
 * on the connection after.
 *
 * Safe because:
 * - only a text starting SELECT, INSERT, UPDATE, DELETE, WITH, VALUES or MERGE with no `;` but a trailing
 *   one is named: never BEGIN/COMMIT, SET, LISTEN, NOTIFY, DDL or a multi-statement text;
 * - the name comes from the text: one id per distinct text for each set of names (preparedStatements()),
 *   so pg never sees one name for two texts; names are `<prefix>_<generation>_<id>`, and each user has a
 *   prefix of its own (ems_ Kysely, bus_ pg-boss, the library's), so users sharing a connection never
 *   clash. At most maxTexts texts get an id and at most maxPerConnection names are prepared on one
 *   connection (the rest run unnamed, as before): what a backend keeps is bounded;
 * - a migration that changes a statement's result type (a column added under `SELECT *` or `RETURNING *`)
 *   makes PostgreSQL refuse the cached plan ("cached plan must not change result type", 0A000; 26000: a
 *   name the connection no longer has). The first such refusal starts a new generation of names: every
 *   connection drops its old statements (DEALLOCATE, sent just before its next statement outside a
 *   transaction) and prepares afresh. A statement refused outside a transaction is run again once
 *   (nothing was done the first time); inside one, the transaction is already aborted, so the error
 *   reaches the caller, as any database error would (a retryable failure, once per connection at most),
 *   and the connection's statements run unnamed until its transaction ends. Whether a transaction is open
 *   is pg's own record of the server's last ReadyForQuery.
 * - a query given as an object (a name, a row mode, a cursor) is the caller's own: passed through.
 *
 * Every statement is handed to the connection in the order it was asked for (nothing is awaited before
 * it is sent), so statements a caller queues without awaiting keep their order.
 */
const PREPARABLE = /^\s*(select|insert|update|delete|with|values|merge)\b/i;

/** PostgreSQL refusing a prepared statement whose plan a schema change made stale, or one it no longer has. */
export function isStalePreparedStatement(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return (e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '')) || e?.code === '26000';
}

export interface PreparedStatementsOptions {
  /** Statement names are `<prefix>_<generation>_<id>`: unique beside other users' names on the same connection. */
  prefix: string;
  /** Distinct texts that get an id (and a name); the others run unnamed. Default 2,000. */
  maxTexts?: number;
  /** Names prepared on one connection; further texts run unnamed there. Default 250. */
  maxPerConnection?: number;
}

/** The connection's own query (unnamed as given): how a statement reaches the server. */
export type SendQuery = (query: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult>;

/** A set of statement names: one id per text, one generation, and what each connection has prepared of them. */
export interface PreparedStatements {
  /**
   * Runs `text` on `connection`, named when it is a single DML statement (see above). `send` is the
   * connection's unwrapped query; default `connection.query`.
   */
  query(connection: pg.ClientBase, text: string, values: readonly unknown[], send?: SendQuery): Promise<pg.QueryResult>;
}

interface ConnectionState {
  generation: number;
  /** Names prepared on this connection, in this generation. */
  prepared: Set<string>;
}

export function preparedStatements(options: PreparedStatementsOptions): PreparedStatements {
  const maxTexts = options.maxTexts ?? 2_000;
  const maxPerConnection = options.maxPerConnection ?? 250;
  const ids = new Map<string, number>();
  let generation = 0;
  const states = new WeakMap<pg.ClientBase, ConnectionState>();

  /** A text's name in this generation, or undefined when it is not one to name (or too many texts have ids). */
  const nameOf = (text: string): string | undefined => {
    let id = ids.get(text);
    if (id === undefined) {
      if (ids.size >= maxTexts || !PREPARABLE.test(text) || text.replace(/;\s*$/, '').includes(';')) return undefined;
      ids.set(text, (id = ids.size + 1));
    }
    return `${options.prefix}_${generation}_${id}`;
  };

  function query(connection: pg.ClientBase, text: string, values: readonly unknown[], send: SendQuery, retried: boolean): Promise<pg.QueryResult> {
    let st = states.get(connection);
    if (!st) states.set(connection, (st = { generation, prepared: new Set() }));
    // Outside a transaction (the last ReadyForQuery said idle) a refused statement did nothing: it may run again.
    const outside = connection.getTransactionStatus() === 'I';
    // Before BEGIN too: a transaction that starts after a schema change then runs on fresh statements.
    if (st.generation !== generation && outside) {
      const old = [...st.prepared];
      st.prepared = new Set();
      st.generation = generation;
      // Queued before the statement, not awaited (order kept). One round trip; a name the server no longer
      // has (26000) ends it early: what is left stays allocated until the connection closes.
      if (old.length > 0) void send(old.map((n) => `DEALLOCATE "${n.replaceAll('"', '""')}"`).join('; ')).catch(() => undefined);
    }
    const name = st.generation === generation ? nameOf(text) : undefined;
    if (name === undefined || (!st.prepared.has(name) && st.prepared.size >= maxPerConnection)) return send(text, [...values]);
    const state = st;
    return send({ name, text, values: [...values] }).then(
      (result) => {
        state.prepared.add(name);
        return result;
      },
      (err: unknown) => {
        if (!isStalePreparedStatement(err)) {
          // Usually the execution failed (a unique violation) and the statement stays prepared; pg itself
          // tracks whether Parse succeeded, this set only bounds and later deallocates them.
          state.prepared.add(name);
          throw err;
        }
        if (state.generation === generation) generation++;
        if ((err as { code?: string }).code !== '26000') state.prepared.add(name);
        if (!outside || retried) throw err;
        return query(connection, text, values, send, true);
      },
    );
  }

  return {
    query: (connection, text, values, send = (q, v) => connection.query(q as pg.QueryConfig, v)) => query(connection, text, values, send, false),
  };
}

export interface PreparingPoolOptions {
  /** Connections at most. */
  max: number;
  /** pg_stat_activity's application_name of its connections. */
  applicationName: string;
  /** Statement names are `<prefix>_<generation>_<id>`: unique beside other code's names on the same server. */
  prefix: string;
  /** A connection idle this long closes (and its prepared statements with it). Default 60 s, as createPool. */
  idleTimeoutMillis?: number;
  /** Default 10 s, or the URL's connect_timeout. */
  connectionTimeoutMillis?: number;
  /** Set on each connection as it opens (e.g. idle_in_transaction_session_timeout), unless the URL's `options` sets it. */
  sessionSettings?: Record<string, number>;
  /** An idle connection's error (a server restart): told here, never thrown (an 'error' event with no listener would end the process). */
  onError: (err: Error) => void;
}

type Callback = (err: Error | null, result?: pg.QueryResult) => void;
type RawQuery = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * A pg pool for a library that runs its own SQL (DBOS's system database): every client it hands out —
 * to `pool.connect()` and to `pool.query()` alike — names its single DML statements (above), with the
 * pool's own names (at most 2,000 texts, 250 per connection).
 */
export function createPreparingPool(connectionString: string, options: PreparingPoolOptions): pg.Pool {
  const statements = preparedStatements({ prefix: options.prefix, maxTexts: 2_000, maxPerConnection: 250 });

  class PreparingClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const raw = super.query.bind(this) as unknown as RawQuery;
      const send: SendQuery = (q, v) => raw(q, v) as Promise<pg.QueryResult>;
      const client = this as unknown as { query: RawQuery };
      client.query = (config, values, callback) => {
        if (typeof config !== 'string') return raw(config, values, callback);
        const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
        const vals = typeof values === 'function' || values === undefined ? [] : (values as unknown[]);
        const result = statements.query(this, config, vals, send);
        if (!cb) return result;
        result.then(
          (r) => cb(null, r),
          (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
        );
        return undefined;
      };
    }
  }

  const pool = new pg.Pool({
    connectionString: withSessionSettings(connectionString, options.sessionSettings ?? {}),
    Client: PreparingClient,
    max: options.max,
    application_name: options.applicationName,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 60_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? connectTimeoutMs(connectionString) ?? 10_000,
  });
  pool.on('error', options.onError);
  return pool;
}

function connectTimeoutMs(url: string): number | undefined {
  try {
    const s = new URL(url).searchParams.get('connect_timeout');
    const n = s ? Number.parseInt(s, 10) : Number.NaN;
    return Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings in the URL's startup `options` (`-c key=value`): set as the session opens, no statement
 * of their own. A setting the URL's `options` already makes is left as the URL says.
 */
function withSessionSettings(url: string, settings: Record<string, number>): string {
  const u = new URL(url);
  const given = u.searchParams.get('options') ?? '';
  const added = Object.entries(settings)
    .filter(([key]) => !given.includes(key))
    .map(([key, value]) => `-c ${key}=${Math.round(value)}`);
  if (added.length === 0) return url;
  u.searchParams.set('options', [given, ...added].filter(Boolean).join(' '));
  return u.toString();
}
