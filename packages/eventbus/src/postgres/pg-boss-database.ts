import pg from 'pg';
import { CompiledQuery } from 'kysely';
import type { Db } from 'pg-boss';
import { quoteIdent, type Pool } from '@ems/platform';
import type { TransactionLike } from '../port.ts';

/**
 * pg-boss runs on the process's one pool (no second pool to size): statements go through
 * `pool.query`, LISTEN gets a dedicated connection of its own so it never holds a pooled one.
 * `route(queue)` sees each notification first (the payload is the queue's name) and returns true when
 * it woke the queue's workers itself; otherwise pg-boss wakes every worker of the queue.
 */
export function poolDatabase(pool: Pool, route?: (queue: string) => boolean): Db {
  return {
    async executeSql(text, values) {
      return values === undefined ? pool.query(text) : pool.query(text, values);
    },
    listen: (channel, onNotification, onReconnect) =>
      listen(pool, channel, (payload) => {
        if (!route?.(payload)) onNotification(payload);
      }, onReconnect),
    poolCounts: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
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
    const delay = Math.min(30_000, 500 * 2 ** failures++);
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
