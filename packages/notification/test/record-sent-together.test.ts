import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createKysely, type Clock, type Pool } from '@ems/platform';
import { notification } from '@ems/contracts';
import { EventTypes } from '@ems/contracts/events';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { NOTIFICATION_SCHEMA, type EmailRow, type NotificationDB } from '../src/db/notification.db.ts';
import { storeEmail } from '../src/send-email/send-email.ts';
import { createSentRecorder, type SentEmail } from '../src/deliver-email/record-sent-together.ts';
import { followUp, managerNotice, openCase, openDatabase, waitForLockWait } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let db: Kysely<NotificationDB>;
let bus: RecordingBus;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  db = createKysely<NotificationDB>(pool, NOTIFICATION_SCHEMA);
  bus = await createRecordingBus(pool);
});

afterEach(async () => {
  bus.stopFailing();
  await pool.query('TRUNCATE notification.emails, public.recorded_events');
});

afterAll(async () => {
  await database?.close();
});

/** A clock whose every reading is one second after the one before: emails recorded in one batch share one reading. */
function tickingClock(): Clock {
  let at = Date.parse('2026-12-01T09:00:00Z');
  return { now: () => new Date((at += 1_000)) };
}

/** An email (a manager notice unless told) stored as claimed by a sender (what claimOnInsert writes), ready to be recorded sent. */
async function claimedNotice(clock: Clock, request: unknown = managerNotice(openCase())): Promise<SentEmail> {
  const token = randomUUID();
  const stored = await storeEmail(db, clock, notification.SendEmailRequest.parse(request), undefined, {}, { token, until: new Date(Date.now() + 60_000) });
  if (!stored.ok) throw new Error('the email was refused');
  return { row: stored.row, token };
}

const emailsById = async (ids: readonly string[]): Promise<Map<string, EmailRow>> =>
  new Map((await db.selectFrom('emails').selectAll().where('id', 'in', ids).execute()).map((r) => [r.id, r]));

describe('"sent" recorded together', () => {
  it('when sends end while an earlier "sent" is being written, then they are recorded together, each under its own claim, and each notice reports once', async () => {
    const clock = tickingClock();
    const recordSent = createSentRecorder({ db, clock, bus });
    const [first, ...later] = await Promise.all(Array.from({ length: 5 }, () => claimedNotice(clock)));
    // One of the later ones lost its claim meanwhile (its lease ran out and another sender took it).
    const lost = later[1]!;
    const takenBy = randomUUID();
    await db.updateTable('emails').set({ claim_token: takenBy }).where('id', '=', lost.row.id).execute();

    // The first one's write waits on a lock held elsewhere, so the others' sends end while it is being written.
    const locker = await pool.connect();
    let firstDone: Promise<EmailRow | undefined>;
    let laterDone: Promise<(EmailRow | undefined)[]>;
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM notification.emails WHERE id = $1 FOR UPDATE', [first!.row.id]);
      firstDone = recordSent(first!);
      await waitForLockWait(pool, 'unnest');
      laterDone = Promise.all(later.map((e) => recordSent(e)));
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    const [firstRow, laterRows] = await Promise.all([firstDone, laterDone]);

    expect(firstRow).toMatchObject({ id: first!.row.id, status: 'sent', claim_token: null });
    expect(laterRows[1]).toBeUndefined();
    const recorded = laterRows.filter((r): r is EmailRow => r !== undefined);
    expect(recorded.map((r) => r.id)).toEqual(later.filter((e) => e !== lost).map((e) => e.row.id));
    // One batch: the three share the one clock reading it took, later than the first one's.
    const sentAts = new Set(recorded.map((r) => r.sent_at?.toISOString()));
    expect(sentAts.size).toBe(1);
    expect(recorded[0]!.sent_at!.getTime()).toBeGreaterThan(firstRow!.sent_at!.getTime());

    const stored = await emailsById([first!.row.id, ...later.map((e) => e.row.id)]);
    expect(stored.get(lost.row.id)).toMatchObject({ status: 'queued', claim_token: takenBy, sent_at: null });
    for (const r of [firstRow!, ...recorded]) expect(stored.get(r.id)).toMatchObject({ status: 'sent', claim_token: null, claimed_until: null });

    const notified = await bus.published(EventTypes.managerNotified);
    expect(notified.map((e) => (e.data as { emailId: string }).emailId).sort()).toEqual([firstRow!.id, ...recorded.map((r) => r.id)].sort());
  });

  it('when the transaction of a batch fails, then each of its emails is recorded alone: none is lost and each notice reports once', async () => {
    const clock = tickingClock();
    const recordSent = createSentRecorder({ db, clock, bus });
    // The first is a follow-up (it reports nothing), so the one publish that fails is the later notices' batch's.
    const first = await claimedNotice(clock, followUp(openCase(), 'reminder'));
    const later = await Promise.all(Array.from({ length: 3 }, () => claimedNotice(clock)));
    bus.failPublish({ times: 1 });

    const locker = await pool.connect();
    let firstDone: Promise<EmailRow | undefined>;
    let laterDone: Promise<(EmailRow | undefined)[]>;
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM notification.emails WHERE id = $1 FOR UPDATE', [first.row.id]);
      firstDone = recordSent(first);
      await waitForLockWait(pool, 'unnest');
      laterDone = Promise.all(later.map((e) => recordSent(e)));
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    expect(await firstDone).toMatchObject({ status: 'sent' });
    const laterRows = await laterDone;

    expect(laterRows.map((r) => r?.status)).toEqual(['sent', 'sent', 'sent']);
    // Alone: each one took a clock reading of its own.
    expect(new Set(laterRows.map((r) => r!.sent_at!.toISOString())).size).toBe(3);
    const notified = await bus.published(EventTypes.managerNotified);
    expect(notified.map((e) => (e.data as { emailId: string }).emailId).sort()).toEqual(later.map((e) => e.row.id).sort());
  });
});

