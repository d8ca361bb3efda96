import pg from 'pg';
import { isStalePreparedStatement } from './db.ts';

/*
 * A pg pool for a library that runs its own SQL (DBOS's system database): every client it hands out —
 * to `pool.connect()` and to `pool.query()` alike — sends a single DML statement as a NAMED prepared
 * statement, so PostgreSQL parses and plans it once per connection instead of at every call (DBOS's
 * `SELECT status FROM workflow_status WHERE workflow_uuid=$1` ran 15 times per case, each one planned).
 * Same round trips: pg sends Parse with the first Bind/Execute, and skips it on the connection after.
 *
 * The rules of platform's db.ts (Kysely) and of the event bus's pg-boss database, at the driver level:
 * - only a text starting SELECT, INSERT, UPDATE, DELETE, WITH, VALUES or MERGE with no `;` but a trailing
 *   one is named (never BEGIN/COMMIT, SET, LISTEN, NOTIFY, DDL or a multi-statement text);
 * - the name comes from the text: one id per distinct text for the pool, so pg never sees one name for
 *   two texts; at most MAX_TEXTS texts get an id and at most MAX_PER_CONNECTION names are prepared on one
 *   connection (the rest run unnamed, as before), so what a backend keeps is bounded;
 * - a statement PostgreSQL refuses because its cached plan went stale (a migration changed a result
 *   type) starts a new generation of names; run outside a transaction it is run again once, unnamed
 *   (nothing was done the first time); inside one the transaction is aborted already and the error
 *   reaches the caller, as any database error would. The old names stay allocated until the connection
 *   closes (bounded as above).
 * - a query given as an object (a name, a row mode, a cursor) is the caller's own: passed through.
 */
const MAX_TEXTS = 2_000;
const MAX_PER_CONNECTION = 250;
const PREPARABLE = /^\s*(select|insert|update|delete|with|values|merge)\b/i;

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

export function createPreparingPool(connectionString: string, options: PreparingPoolOptions): pg.Pool {
  const ids = new Map<string, number>();
  let generation = 0;
  const nameOf = (text: string): string | undefined => {
    let id = ids.get(text);
    if (id === undefined) {
      if (ids.size >= MAX_TEXTS || !PREPARABLE.test(text) || text.replace(/;\s*$/, '').includes(';')) return undefined;
      ids.set(text, (id = ids.size + 1));
    }
    return `${options.prefix}_${generation}_${id}`;
  };

  class PreparingClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      const raw = super.query.bind(this) as unknown as RawQuery;
      const prepared = new Set<string>();
      const client = this as unknown as { query: RawQuery };
      client.query = (config, values, callback) => {
        if (typeof config !== 'string') return raw(config, values, callback);
        const name = nameOf(config);
        if (name === undefined || (!prepared.has(name) && prepared.size >= MAX_PER_CONNECTION)) return raw(config, values, callback);
        const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
        const vals = typeof values === 'function' || values === undefined ? [] : values;
        // Outside a transaction (pg's last ReadyForQuery said idle) a refused statement did nothing: it may run again.
        const autocommit = this.getTransactionStatus() === 'I';
        const result = (raw({ name, text: config, values: vals }) as Promise<pg.QueryResult>).then(
          (r) => {
            prepared.add(name);
            return r;
          },
          (err: unknown) => {
            // Usually the execution failed (a unique violation) and the statement stays prepared.
            prepared.add(name);
            if (!isStalePreparedStatement(err)) throw err;
            if (name === nameOf(config)) generation++;
            if (!autocommit) throw err;
            return raw(config, vals) as Promise<pg.QueryResult>;
          },
        );
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
