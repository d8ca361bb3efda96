import pg from 'pg';
import { CompiledQuery } from 'kysely';
import type { Db } from 'pg-boss';
import { backoffDelay, preparedStatements, quoteIdent, type Pool, type PreparedStatements } from '@ems/platform';
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
    executeSql: (text, values) => executeOn(pool, prepared, text, values ?? []),
    listen: (channel, onNotification, onReconnect) =>
      listen(pool, channel, (payload) => {
        if (!route?.(payload)) onNotification(payload);
      }, onReconnect),
    poolCounts: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

/*
 * pg-boss's statements as named prepared statements (platform's preparedStatements: the rules, the
 * bounds, what a stale plan does). Its texts are fixed (one per queue and kind: the job fetch, complete,
 * fail, the sweep's…; the values are parameters), yet through `pool.query` each ran unnamed: PostgreSQL
 * parsed and planned it at every call — the job fetch alone was 5.6 calls and 13.1 ms of planning per
 * case in choreography (docs/performance.md). Names of their own (bus_…, beside Kysely's ems_… on the
 * same connections), one set per pool: several buses (schemas) on one pool share its connections, so
 * they share the names too; at most 2,000 texts, 200 per connection. A statement refused as stale is
 * run again once: these statements are autocommitted, so nothing was done the first time.
 */
const byPool = new WeakMap<Pool, PreparedStatements>();
function preparedStatementsOf(pool: Pool): PreparedStatements {
  let prepared = byPool.get(pool);
  if (!prepared) byPool.set(pool, (prepared = preparedStatements({ prefix: 'bus', maxTexts: 2_000, maxPerConnection: 200 })));
  return prepared;
}

async function executeOn(pool: Pool, prepared: PreparedStatements, text: string, values: unknown[]): Promise<pg.QueryResult> {
  const client = await pool.connect();
  let broken = false;
  try {
    return await prepared.query(client, text, values);
  } catch (err) {
    // An error PostgreSQL answered leaves the connection usable — unless it left a transaction open (a
    // multi-statement text failing between its BEGIN and COMMIT); any other error (a lost connection) does not.
    // pg rejects on the ErrorResponse, before the server's ReadyForQuery says whether a transaction is still
    // open (getTransactionStatus() may still tell the state before the text): so end whatever is open, queued
    // behind that ReadyForQuery. Outside a transaction ROLLBACK only warns. Seen: three processes starting
    // together on a fresh schema, one's failed install text handed on, still aborted, to pg-boss's next statement.
    broken = !(err instanceof pg.DatabaseError) || !(await endOpenTransaction(client));
    throw err;
  } finally {
    client.release(broken);
  }
}

/** After a failed text: ROLLBACK whatever it left open; true when the connection is idle again (fit to reuse). */
async function endOpenTransaction(client: pg.PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return client.getTransactionStatus() === 'I';
  } catch {
    return false;
  }
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
