import type pg from 'pg';
import { paged, quoteIdent, storableText, withTransaction, type Migration, type Pool } from '@ems/platform';
import type { DeadLetter, DeadLetterStore } from '../port.ts';

/**
 * Our own record of dead letters, beside pg-boss's tables in the bus schema. pg-boss moves a job that
 * exhausted its retries to the subscriber's dead-letter queue (keeping the last error as its
 * `sourceOutput`); the bus drains that queue into this table, which adds what an operator needs and
 * pg-boss does not keep: a readable reason, whether the subscriber was told (onDeadLetter), and
 * whether (and as which job) the letter was replayed. Applied with platform's migrate() on start.
 */
export const deadLetterMigrations: Migration[] = [
  {
    version: 1,
    name: 'dead letters',
    sql: `CREATE TABLE dead_letters (
            id uuid PRIMARY KEY,          -- the id of the job in pg-boss's dead-letter queue
            subscriber text NOT NULL,
            event jsonb,                  -- the message as received (may be garbage)
            event_id text,
            event_type text,
            reason text NOT NULL,
            attempts integer NOT NULL,
            dead_at timestamptz NOT NULL,
            notified_at timestamptz,      -- onDeadLetter was called
            replayed_at timestamptz,
            replay_job_id uuid
          );
          CREATE INDEX dead_letters_open ON dead_letters (subscriber, dead_at DESC) WHERE replayed_at IS NULL;
          CREATE INDEX dead_letters_by_time ON dead_letters (dead_at DESC);`,
  },
];

interface Row {
  id: string;
  subscriber: string;
  event: unknown;
  event_id: string | null;
  event_type: string | null;
  reason: string;
  attempts: number;
  dead_at: Date;
  replayed_at: Date | null;
}

export interface NewDeadLetter {
  id: string;
  subscriber: string;
  event: unknown;
  reason: string;
  attempts: number;
  deadAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = 'id, subscriber, event, event_id, event_type, reason, attempts, dead_at, replayed_at';

export interface DeadLetterTable extends DeadLetterStore {
  /** Records a dead letter once (keyed by the dead-letter job id); true if it is not yet notified. */
  record(letter: NewDeadLetter): Promise<boolean>;
  markNotified(id: string): Promise<void>;
}

/**
 * `send(client, subscriber, event)` puts the event back on the subscriber's queue inside the replay's
 * transaction (on `client`) and returns the new job's id.
 */
export function createDeadLetterTable(pool: Pool, schema: string, send: (client: pg.PoolClient, subscriber: string, event: unknown) => Promise<string>): DeadLetterTable {
  const table = `${quoteIdent(schema)}.dead_letters`;

  const get = async (id: string): Promise<DeadLetter | undefined> => {
    if (!UUID.test(id)) return undefined;
    const { rows } = await pool.query<Row>(`SELECT ${COLUMNS} FROM ${table} WHERE id = $1`, [id]);
    return rows[0] ? toDeadLetter(rows[0]) : undefined;
  };

  return {
    async record(letter) {
      const stored = storableEvent(letter.event);
      const event = letter.event as { id?: unknown; type?: unknown } | null;
      await pool.query(
        `INSERT INTO ${table} (id, subscriber, event, event_id, event_type, reason, attempts, dead_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO NOTHING`,
        [
          letter.id,
          letter.subscriber,
          // Always JSON text: pg would send a bare string as text, which is not valid JSON.
          JSON.stringify(stored),
          typeof event?.id === 'string' ? storableText(event.id.slice(0, 200)) : null,
          typeof event?.type === 'string' ? storableText(event.type.slice(0, 200)) : null,
          storableText(letter.reason),
          letter.attempts,
          letter.deadAt,
        ],
      );
      const { rows } = await pool.query<{ notified: boolean }>(`SELECT notified_at IS NOT NULL AS notified FROM ${table} WHERE id = $1`, [letter.id]);
      return rows[0]?.notified === false;
    },

    async markNotified(id) {
      await pool.query(`UPDATE ${table} SET notified_at = now() WHERE id = $1 AND notified_at IS NULL`, [id]);
    },

    async list(query = {}) {
      const page = { limit: Math.min(Math.max(query.limit ?? 50, 1), 500), offset: Math.max(query.offset ?? 0, 0) };
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.subscriber !== undefined) {
        values.push(query.subscriber);
        where.push(`subscriber = $${values.length}`);
      }
      if (!query.includeReplayed) where.push('replayed_at IS NULL');
      values.push(page.limit + 1, page.offset);
      const { rows } = await pool.query<Row>(
        `SELECT ${COLUMNS} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY dead_at DESC, id LIMIT $${values.length - 1} OFFSET $${values.length}`,
        values,
      );
      const result = paged(rows, page);
      return { items: result.items.map(toDeadLetter), nextOffset: result.nextOffset };
    },

    get,

    /**
     * The row lock makes replay idempotent under concurrency: only the first caller flips
     * replayed_at and enqueues, in the same transaction; later ones find it replayed and change nothing.
     */
    async replay(id) {
      if (!UUID.test(id)) return undefined;
      await withTransaction(pool, async (client) => {
        const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
        const row = rows[0];
        if (row && row.replayed_at === null) {
          const jobId = await send(client, row.subscriber, row.event);
          await client.query(`UPDATE ${table} SET replayed_at = now(), replay_job_id = $2 WHERE id = $1`, [id, jobId]);
        }
      });
      return get(id);
    },
  };
}

/** The most of a dead message this table keeps (its JSON, in characters); a larger one is kept as its head. */
export const MAX_STORED_EVENT_CHARS = 64 * 1024;

/**
 * The message as this table can keep it: what jsonb cannot store (a NUL, a lone surrogate — in values
 * and keys) replaced by U+FFFD, nesting past 64 levels cut, and a huge message kept as the head of its
 * JSON. Recording a poison message must never fail because of the poison: it would be retried forever.
 */
export function storableEvent(event: unknown): unknown {
  const clean = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return storableText(v);
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= 64) return '(nested too deep)';
    if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), clean(x, depth + 1)]));
  };
  const cleaned = clean(event ?? null, 0);
  const text = JSON.stringify(cleaned) ?? 'null';
  if (text.length <= MAX_STORED_EVENT_CHARS) return cleaned;
  return { truncated: true, chars: text.length, head: storableText(text.slice(0, MAX_STORED_EVENT_CHARS)) };
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: row.id,
    subscriber: row.subscriber,
    event: row.event,
    eventId: row.event_id,
    eventType: row.event_type,
    reason: row.reason,
    attempts: row.attempts,
    deadAt: row.dead_at.toISOString(),
    replayedAt: row.replayed_at ? row.replayed_at.toISOString() : null,
  };
}

/**
 * A renamed subscriber's recorded dead letters, open and replayed, go under its new name (listed and
 * replayed as its own), in the caller's transaction on `client`. The number of letters renamed.
 */
export async function renameDeadLetters(client: pg.PoolClient, schema: string, from: string, to: string): Promise<number> {
  const { rowCount } = await client.query(`UPDATE ${quoteIdent(schema)}.dead_letters SET subscriber = $2 WHERE subscriber = $1`, [from, to]);
  return rowCount ?? 0;
}
