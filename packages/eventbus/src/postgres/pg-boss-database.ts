import pg from 'pg';
import { CompiledQuery } from 'kysely';
import type { Db } from 'pg-boss';
import { backoffDelay, quoteIdent, type Pool } from '@ems/platform';
import type { TransactionLike } from '../port.ts';

/**
 * pg-boss runs on the process's one pool (no second pool to size): statements go through a pooled
 * connection as named prepared statements (below), LISTEN gets a dedicated connection of its own so it
 * never holds a pooled one. `route(queue)` sees each notification first (the payload is the queue's
 * name) and returns true when it woke the queue's workers itself; otherwise pg-boss wakes every worker
 * of the queue.
 */
export function poolDatabase(pool: Pool, route?: (queue: string) => boolean): Db {
  const prepared = preparedStatementsOf(pool);
  return {
    executeSql: (text, values) => prepared.run(pool, text, values ?? []),
    listen: (channel, onNotification, onReconnect) =>
      listen(pool, channel, (payload) => {
        if (!route?.(payload)) onNotification(payload);
      }, onReconnect),
    poolCounts: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/*
 * pg-boss's statements as named prepared statements.
 *
 * Its texts are fixed (one per queue and kind: the job fetch, complete, fail, the sweep's…; the values
 * are parameters), yet through `pool.query` each ran unnamed: PostgreSQL parsed and planned it at every
 * call — the job fetch alone was 5.6 calls and 13.1 ms of planning per case in choreography
 * (docs/performance.md). Named, a text is parsed once per connection, and after five executions
 * PostgreSQL may keep a generic plan. The same rules as platform's db.ts for Kysely's statements:
 * - only a single DML statement is named (no `;`: never BEGIN…COMMIT blocks, DDL or migrations);
 * - the name comes from the text (an id per distinct text on this pool, whichever bus runs it), so one
 *   name never stands for two texts on a connection; at most MAX_TEXTS texts get an id and MAX_PER_CONNECTION are prepared on one
 *   connection (the rest run unnamed): the memory a backend keeps for them is bounded;
 * - a statement PostgreSQL refuses because its cached plan went stale (pg-boss migrated a table under a
 *   `RETURNING *`) starts a new generation of names and runs once more unnamed: these statements are
 *   autocommitted, so nothing was done the first time.
 */
const MAX_TEXTS = 2_000;
const MAX_PER_CONNECTION = 200;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

interface PreparedStatements {
  run(pool: Pool, text: string, values: unknown[]): Promise<pg.QueryResult>;
}

/** Per pool: several buses (schemas) on one pool share its connections, so they share the names too. */
const byPool = new WeakMap<Pool, PreparedStatements>();
function preparedStatementsOf(pool: Pool): PreparedStatements {
  let prepared = byPool.get(pool);
  if (!prepared) byPool.set(pool, (prepared = preparedStatements()));
  return prepared;
}

function preparedStatements(): PreparedStatements {
  const ids = new Map<string, number>();
  const onConnection = new WeakMap<pg.PoolClient, Set<string>>();
  let generation = 0;
  const nameOf = (text: string): string | undefined => {
    let id = ids.get(text);
    if (id === undefined) {
      if (ids.size >= MAX_TEXTS || !PREPARABLE.test(text) || text.includes(';')) return undefined;
      ids.set(text, (id = ids.size + 1));
    }
    return `bus_${generation}_${id}`;
  };
  return {
    async run(pool, text, values) {
      const name = nameOf(text);
      if (name === undefined) return pool.query(text, values);
      const client = await pool.connect();
      let broken = false;
      try {
        let names = onConnection.get(client);
        if (!names) onConnection.set(client, (names = new Set()));
        if (!names.has(name) && names.size >= MAX_PER_CONNECTION) return await client.query(text, values);
        try {
          const result = await client.query({ name, text, values });
          names.add(name);
          return result;
        } catch (err) {
          // Usually the execution failed (a unique violation) and the statement stays prepared.
          names.add(name);
          if (!isStalePlan(err)) throw err;
          if (name === `bus_${generation}_${ids.get(text)}`) generation++;
          return await client.query(text, values);
        }
      } catch (err) {
        // An error PostgreSQL answered leaves the connection usable; any other (a lost connection) does not.
        broken = !(err instanceof pg.DatabaseError);
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}

/** PostgreSQL refusing a prepared statement whose plan a schema change made stale, or one it no longer has. */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '')) || e?.code === '26000';
}

/**
 * Runs pg-boss statements inside the caller's Kysely transaction, so the jobs it inserts commit or roll
 * back with the caller's own writes. pg-boss fans a publish out with concurrent statements; they are
 * queued here because one connection runs one statement at a time (pg deprecates queueing on the client).
 */
export function transactionDatabase(trx: TransactionLike): Db {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    executeSql(text, values) {
      const run = queue.then(async () => {
        const result = await trx.executeQuery(CompiledQuery.raw(text, values ?? []));
        return { rows: [...result.rows] };
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** The same for a pooled client inside a transaction of our own (dead-letter replay). */
export function clientDatabase(client: pg.PoolClient): Db {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    executeSql(text, values) {
      const run = queue.then(() => client.query(text, values));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/**
 * A LISTEN connection that reconnects with capped backoff and then calls onReconnect (pg-boss then
 * fetches once, recovering notifications missed meanwhile). Polling remains the correctness floor.
 */
async function listen(pool: Pool, channel: string, onNotification: (payload: string) => void, onReconnect: () => void): Promise<{ close(): Promise<void> }> {
  let closed = false;
  let established = false;
  let failures = 0;
  let current: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;

  const discard = (c: pg.Client) => {
    if (current === c) current = null;
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.end().catch(() => undefined);
  };
  const scheduleReconnect = () => {
    if (closed || timer) return;
    const delay = backoffDelay(++failures, { baseMs: 500, maxMs: 30_000 });
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch(scheduleReconnect);
    }, delay);
    timer.unref();
  };
  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ ...pool.options, keepAlive: true });
    const lost = () => {
      if (current !== c) return;
      discard(c);
      if (established) scheduleReconnect();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (msg) => {
      if (msg.payload !== undefined) onNotification(msg.payload);
    });
    current = c;
    try {
      await c.connect();
      await c.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      discard(c);
      throw err;
    }
    failures = 0;
    established = true;
    onReconnect();
  };

  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      if (current) {
        const c = current;
        current = null;
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
