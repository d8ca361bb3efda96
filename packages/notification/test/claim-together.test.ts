import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createKysely, systemClock, type Pool } from '@ems/platform';
import { notification } from '@ems/contracts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from '../src/db/notification.db.ts';
import { storeEmail } from '../src/send-email/send-email.ts';
import { createClaimer, type Claimed } from '../src/deliver-email/claim-together.ts';
import { managerNotice, openCase, openDatabase, waitForLockWait } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
let db: Kysely<NotificationDB>;

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
  db = createKysely<NotificationDB>(pool, NOTIFICATION_SCHEMA);
});

afterEach(async () => {
  await pool.query('TRUNCATE notification.emails');
});

afterAll(async () => {
  await database?.close();
});

/** A manager notice stored queued and unclaimed (as in a burst, when no send slot was free): its id. */
async function queuedNotice(): Promise<string> {
  const stored = await storeEmail(db, systemClock, notification.SendEmailRequest.parse(managerNotice(openCase())), undefined, {});
  if (!stored.ok) throw new Error('the notice was refused');
  return stored.row.id;
}

describe('claims made together', () => {
  it('when emails are asked for while a claim is running, then one statement claims each that is free, once, under one token of its own', async () => {
    const claimById = createClaimer({ db, clock: systemClock, leaseMs: 60_000 });
    const [first, free1, free2, held, notDue] = await Promise.all(Array.from({ length: 5 }, queuedNotice));
    const otherToken = randomUUID();
    await db.updateTable('emails').set({ claim_token: otherToken, claimed_until: new Date(Date.now() + 60_000) }).where('id', '=', held!).execute();
    await db.updateTable('emails').set({ next_attempt_at: new Date(Date.now() + 60_000) }).where('id', '=', notDue!).execute();

    // The first claim waits on a lock held elsewhere, so the others are asked for while it is running.
    const locker = await pool.connect();
    let firstDone: Promise<Claimed | undefined>;
    let laterDone: Promise<(Claimed | undefined)[]>;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE notification.emails IN EXCLUSIVE MODE');
      firstDone = claimById(first!);
      await waitForLockWait(pool, 'any(');
      // free2 is asked for twice (two fast paths for one email): it must be claimed once.
      laterDone = Promise.all([free1!, free2!, free2!, held!, notDue!].map((id) => claimById(id)));
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    const [firstClaim, [c1, c2, c2again, cHeld, cNotDue]] = await Promise.all([firstDone, laterDone]);

    expect(firstClaim?.row).toMatchObject({ id: first, attempts: 1, claim_token: firstClaim?.token });
    expect(c1?.row).toMatchObject({ id: free1, attempts: 1 });
    expect(c2?.row).toMatchObject({ id: free2, attempts: 1 });
    // One statement, one token: shared by the batch, not the first claim's.
    expect(c2?.token).toBe(c1?.token);
    expect(c1?.token).not.toBe(firstClaim?.token);
    expect(c2again).toBeUndefined();
    expect(cHeld).toBeUndefined();
    expect(cNotDue).toBeUndefined();

    const rows = new Map((await db.selectFrom('emails').select(['id', 'attempts', 'claim_token']).execute()).map((r) => [r.id, r]));
    expect(rows.get(free1!)).toEqual({ id: free1, attempts: 1, claim_token: c1?.token });
    expect(rows.get(free2!)).toEqual({ id: free2, attempts: 1, claim_token: c1?.token });
    expect(rows.get(held!)).toEqual({ id: held, attempts: 0, claim_token: otherToken });
    expect(rows.get(notDue!)).toEqual({ id: notDue, attempts: 0, claim_token: null });
  });
});

