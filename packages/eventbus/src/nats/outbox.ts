import pg from 'pg';
import { CompiledQuery } from 'kysely';
import { backoffDelay, quoteIdent, type Logger, type Migration, type Pool } from '@ems/platform';
import type { TransactionLike } from '../port.ts';

/*
 * The transactional outbox of the NATS adapter. publish() writes rows in the caller's transaction (so
 * an event exists iff the business change committed) and NOTIFYs at commit; the relay moves rows to
 * JetStream oldest first and marks them sent.
 *
 *   caller's trx: INSERT outbox rows + pg_notify ──commit──► relay (every replica runs one)
 *       relay batch: BEGIN; pg_try_advisory_xact_lock(schema, prefix)   ← one relay at a time: order kept
 *                    SELECT unsent ORDER BY seq LIMIT n
 *                    publish all of them in order, then await their acks (Nats-Msg-Id = event id: a re-sent row is a duplicate JetStream drops)
 *                    UPDATE … SET sent_at for the rows JetStream acknowledged; COMMIT
 *
 * The batch's messages leave on one connection in order, and JetStream stores a connection's messages in
 * the order it receives them, so the stream keeps the outbox's order without a round trip per message
 * (awaiting each ack in turn capped the relay at one message per round trip: ≈ 11 s behind in a burst).
 * A row whose publish failed stays unsent and is the first of the next batch, before any row not yet
 * sent. If JetStream had stored it after all (its ack was lost), that re-send is a duplicate it drops, and
 * the order stands; if JetStream refused it while storing the rows after it, the stream holds those first.
 *
 * A relay that dies between publishing and COMMIT leaves its rows unsent: the next batch sends them
 * again, and JetStream's de-duplication window (or, past it, the consumers' dedupe) absorbs it.
 */

/** Versions far above the dead-letter table's (same schema, same migration history). */
export const outboxMigrations: Migration[] = [
  {
    version: 1001,
    name: 'nats outbox',
    sql: `CREATE TABLE nats_outbox (
            seq bigserial PRIMARY KEY,
            prefix text NOT NULL,         -- the bus's NATS prefix: buses on other prefixes ignore the row
            subject text NOT NULL,
            msg_id text NOT NULL,         -- Nats-Msg-Id: the event id (a replay's own id)
            payload text NOT NULL,        -- the message body (JSON)
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz
          );
          CREATE INDEX nats_outbox_unsent ON nats_outbox (prefix, seq) WHERE sent_at IS NULL;
          CREATE INDEX nats_outbox_sent ON nats_outbox (prefix, sent_at) WHERE sent_at IS NOT NULL;`,
  },
];

export interface OutboxMessage {
  subject: string;
  msgId: string;
  payload: string;
}

export interface Outbox {
  /** Adds messages in the caller's transaction; the relays are woken when it commits. */
  append(tx: TransactionLike, messages: readonly OutboxMessage[]): Promise<void>;
  /** The same on a pooled client inside a transaction of our own (dead-letter replay). */
  appendWithClient(client: pg.PoolClient, message: OutboxMessage): Promise<void>;
}

export function outboxChannel(schema: string): string {
  return `ems.nats-outbox.${schema}`.slice(0, 63);
}

export function createOutbox(schema: string, prefix: string): Outbox {
  const table = `${quoteIdent(schema)}.nats_outbox`;
  const channel = outboxChannel(schema);
  // One statement: the rows keep the given order (seq), and NOTIFY is delivered at commit.
  const insert = `WITH rows AS (
                    INSERT INTO ${table} (prefix, subject, msg_id, payload)
                    SELECT $1, u.subject, u.msg_id, u.payload
                      FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(subject, msg_id, payload, n)
                     ORDER BY u.n
                    RETURNING 1)
                  SELECT pg_notify($5, $1) FROM (SELECT count(*) FROM rows) AS inserted`;
  const params = (messages: readonly OutboxMessage[]) => [prefix, messages.map((m) => m.subject), messages.map((m) => m.msgId), messages.map((m) => m.payload), channel];
  return {
    async append(tx, messages) {
      if (messages.length === 0) return;
      await tx.executeQuery(CompiledQuery.raw(insert, params(messages)));
    },
    async appendWithClient(client, message) {
      await client.query(insert, params([message]));
    },
  };
}

export interface RelayOptions {
  pool: Pool;
  schema: string;
  prefix: string;
  log: Logger;
  /**
   * Publishes one row to JetStream, resolving when JetStream acknowledged it. Must put the message on the
   * wire before it returns its promise's first await: a batch calls it for every row, then awaits.
   */
  send(message: OutboxMessage): Promise<void>;
  /** Called after a failed send, before the relay retries (e.g. to re-create missing streams). */
  onSendError?(err: unknown): Promise<void>;
  /** How often the relay looks for rows it was not woken for (a lost LISTEN connection). */
  pollMs: number;
  batchSize: number;
}

export interface Relay {
  start(): Promise<void>;
  /** Waits for the batch in progress. */
  stop(): Promise<void>;
}

/**
 * The advisory lock a relay batch holds while it sends (one relay at a time per schema and prefix).
 * Taken with a wait, it also means: no batch is sending now, and the next one reads the rows as left.
 */
export const relayLockKey = (schema: string, prefix: string) => `ems.nats-relay.${schema}.${prefix}`;

/** Rows sent longer ago than this are deleted (kept meanwhile to look into). */
const KEEP_SENT_MS = 60 * 60_000;
const PRUNE_EVERY_MS = 60_000;
const MAX_BACKOFF_MS = 5_000;

export function createRelay(o: RelayOptions): Relay {
  const table = `${quoteIdent(o.schema)}.nats_outbox`;
  const lockKey = relayLockKey(o.schema, o.prefix);
  let running = false;
  let loop: Promise<void> | undefined;
  let listener: Listener | undefined;
  let woken = false;
  let wake: (() => void) | undefined;
  let lastPrune = 0;

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
      if (woken || !running) done();
    });
  const poke = () => {
    woken = true;
    wake?.();
  };

  /** Sends one batch; the number of rows sent, or -1 when another relay holds the lock. */
  const relayBatch = async (): Promise<number> => {
    const client = await o.pool.connect();
    const sent: number[] = [];
    // The first row JetStream refused and why (a reason may be any value, even undefined).
    let failed: { msgId: string; reason: unknown } | undefined;
    try {
      await client.query('BEGIN');
      const { rows: locked } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [lockKey]);
      if (!locked[0]?.ok) {
        await client.query('ROLLBACK');
        return -1;
      }
      // Ordered by the bigint column itself (ordering by a text alias once sent row 10 before row 9).
      const { rows } = await client.query<{ seq: string | number; subject: string; msg_id: string; payload: string }>(
        `SELECT o.seq, o.subject, o.msg_id, o.payload FROM ${table} AS o WHERE o.prefix = $1 AND o.sent_at IS NULL ORDER BY o.seq LIMIT $2`,
        [o.prefix, o.batchSize],
      );
      // All on the wire before any ack is awaited (in order, on one connection). What JetStream acknowledged
      // is marked sent; a failed row is sent again first thing in the next batch.
      const acks = await Promise.allSettled(rows.map((row) => o.send({ subject: row.subject, msgId: row.msg_id, payload: row.payload })));
      for (const [i, ack] of acks.entries()) {
        if (ack.status === 'fulfilled') sent.push(Number(rows[i]!.seq));
        else failed ??= { msgId: rows[i]!.msg_id, reason: ack.reason };
      }
      if (sent.length) await client.query(`UPDATE ${table} SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [sent]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    if (failed) throw new Error(`outbox relay: sending message ${failed.msgId} failed: ${describe(failed.reason)}`, { cause: failed.reason });
    return sent.length;
  };

  const prune = async () => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    await o.pool.query(`DELETE FROM ${table} WHERE prefix = $1 AND sent_at < now() - make_interval(secs => $2)`, [o.prefix, KEEP_SENT_MS / 1000]);
  };

  const run = async () => {
    let failures = 0;
    while (running) {
      woken = false;
      let sent: number;
      try {
        sent = await relayBatch();
        failures = 0;
        await prune();
      } catch (err) {
        failures++;
        o.log[failures > 3 ? 'error' : 'warn']({ err, failures }, 'event bus: outbox relay failed; retrying');
        await o.onSendError?.(err).catch((e: unknown) => o.log.warn({ err: e }, 'event bus: outbox relay recovery failed'));
        await idle(backoffDelay(failures + 1, { baseMs: 100, maxMs: MAX_BACKOFF_MS }));
        continue;
      }
      if (sent === o.batchSize) continue;
      await idle(o.pollMs);
    }
  };

  return {
    async start() {
      if (running) return;
      running = true;
      woken = true;
      listener = await listen(o.pool, outboxChannel(o.schema), (payload) => {
        if (payload === o.prefix) poke();
      }, poke, o.log);
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      await loop;
      loop = undefined;
      await listener?.close();
      listener = undefined;
    },
  };
}

interface Listener {
  close(): Promise<void>;
}

/**
 * A LISTEN connection of its own (outside the pool), reconnecting with capped backoff; onReconnect
 * runs after each reconnection (notifications may have been missed). Polling remains the floor.
 */
async function listen(pool: Pool, channel: string, onNotification: (payload: string) => void, onReconnect: () => void, log: Logger): Promise<Listener> {
  let closed = false;
  let failures = 0;
  let current: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const discard = (c: pg.Client) => {
    if (current === c) current = undefined;
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.end().catch(() => undefined);
  };
  const reconnectLater = () => {
    if (closed || timer) return;
    const delay = backoffDelay(++failures, { baseMs: 500, maxMs: 30_000 });
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(onReconnect, (err: unknown) => {
        log.warn({ err }, 'event bus: outbox LISTEN connection failed; relying on polling meanwhile');
        reconnectLater();
      });
    }, delay);
    timer.unref();
  };
  const connect = async () => {
    const c = new pg.Client({ ...pool.options, keepAlive: true });
    const lost = () => {
      if (current !== c) return;
      discard(c);
      reconnectLater();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (msg) => onNotification(msg.payload ?? ''));
    try {
      await c.connect();
      await c.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      discard(c);
      throw err;
    }
    if (closed) {
      discard(c);
      return;
    }
    current = c;
    failures = 0;
  };

  try {
    await connect();
  } catch (err) {
    log.warn({ err }, 'event bus: outbox LISTEN connection failed; relying on polling meanwhile');
    reconnectLater();
  }
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = current;
      current = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
}
