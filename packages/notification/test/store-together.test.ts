import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createKysely, type Pool } from '@ems/platform';
import { NOTIFICATION_SCHEMA, type EmailRow, type NotificationDB } from '../src/db/notification.db.ts';
import { createEmailStore, type EmailInsert, type StoreEmails } from '../src/send-email/store-together.ts';
import { openDatabase, waitForLockWait } from './harness.ts';

/*
 * New emails of requests that arrive at the same time stored by one statement (src/send-email/store-together.ts):
 * each request gets back its own rows, a repeat is stored once, and a row the database refuses fails only its request.
 */
let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let db: Kysely<NotificationDB>;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  db = createKysely<NotificationDB>(pool, NOTIFICATION_SCHEMA);
});
afterAll(async () => {
  await database?.close();
});

/** A new email's row (a manager notice of a case of its own unless told). */
function row(over: Partial<EmailInsert> = {}): EmailInsert {
  const id = randomUUID();
  const now = new Date();
  return {
    id,
    resignation_id: randomUUID(),
    purpose: 'manager-notice',
    recipient: `manager-${id}@acme.example`,
    recipient_name: 'A Manager',
    template: 'resignation-manager-notice',
    data: '{}',
    subject: 'Resignation',
    text: 'text',
    html: '<p>html</p>',
    attachments: '[]',
    next_attempt_at: now,
    message_id: `<${id}@ems.test>`,
    idempotency_key: null,
    created_at: now,
    ...over,
  };
}

/**
 * `later` asked for while a first store waits on a lock (another transaction inserting the same email, not yet
 * committed), so that they go together once it is done; the first one's and `later`'s outcomes.
 */
async function whileAStoreWaits<T>(store: StoreEmails, later: () => Promise<T>): Promise<{ first: EmailRow[]; later: T }> {
  const blocking = row();
  const locker = await pool.connect();
  let firstDone: Promise<EmailRow[]>;
  let laterDone: Promise<T>;
  try {
    await locker.query('BEGIN');
    await locker.query(
      `INSERT INTO notification.emails (id, resignation_id, purpose, recipient, template, data, subject, text, html, attachments, next_attempt_at, message_id, created_at)
       VALUES ($1, $2, $3, $4, $5, '{}', 's', 't', 'h', '[]', now(), $6, now())`,
      [randomUUID(), blocking.resignation_id, blocking.purpose, blocking.recipient, blocking.template, `<${randomUUID()}@ems.test>`],
    );
    firstDone = store([blocking]);
    await waitForLockWait(pool, 'insert into "notification"."emails"');
    laterDone = later();
  } finally {
    await locker.query('COMMIT');
    locker.release();
  }
  return { first: await firstDone, later: await laterDone };
}

const xminOf = async (ids: readonly string[]) =>
  new Map((await pool.query<{ id: string; xmin: string }>('SELECT id, xmin::text FROM notification.emails WHERE id = ANY($1::uuid[])', [ids])).rows.map((r) => [r.id, r.xmin]));

describe('new emails stored together', () => {
  it('when requests store emails while an earlier store is being written, then one statement stores them, each request gets its own rows, and a repeat is stored once', async () => {
    const store = createEmailStore(db);
    const [a1, a2, b] = [row(), row(), row()];
    // Another request's email for the same case, purpose and recipient as b: a repeat.
    const repeat = row({ resignation_id: b.resignation_id, purpose: b.purpose, recipient: b.recipient.toUpperCase() });
    const { first, later } = await whileAStoreWaits(store, () => Promise.all([store([a1, a2]), store([b]), store([repeat])]));

    // The first one's email existed once the other transaction committed: nothing inserted for it.
    expect(first).toEqual([]);
    expect(later.map((rows) => rows.map((r) => r.id))).toEqual([[a1.id, a2.id], [b.id], []]);
    const xmins = await xminOf([a1.id, a2.id, b.id, repeat.id]);
    expect(xmins.has(repeat.id)).toBe(false);
    // One statement, one transaction: the three rows share the transaction id that wrote them.
    expect(new Set([xmins.get(a1.id), xmins.get(a2.id), xmins.get(b.id)]).size).toBe(1);
  });

  it('when a row of one request is refused by the database, then only that request fails; the other requests’ rows are stored', async () => {
    const store = createEmailStore(db);
    const [good1, good2] = [row(), row()];
    // PostgreSQL's text cannot hold a NUL character.
    const bad = row({ subject: 'nul \u0000 here' });
    const { later } = await whileAStoreWaits(store, () => Promise.allSettled([store([good1]), store([bad]), store([good2])]));

    expect(later.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((later[0] as PromiseFulfilledResult<EmailRow[]>).value.map((r) => r.id)).toEqual([good1.id]);
    expect((later[2] as PromiseFulfilledResult<EmailRow[]>).value.map((r) => r.id)).toEqual([good2.id]);
    const stored = await xminOf([good1.id, good2.id, bad.id]);
    expect([...stored.keys()].sort()).toEqual([good1.id, good2.id].sort());
  });
});
