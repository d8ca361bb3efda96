import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { migrations as hrMigrations } from '../packages/hr/src/db/migrations.ts';
import { HR_SCHEMA, type HrDB } from '../packages/hr/src/db/hr.db.ts';
import { createInviteDelivery } from '../packages/hr/src/deliver-invites/deliver-invites.ts';
import { inviteEmails } from '../packages/hr/src/domain/calendar-invite.ts';
import type { NotificationClient } from '../packages/hr/src/notification/notification.client.ts';

/*
 * HR's invite delivery on real PostgreSQL, Notification stood in for by a client that records what it is handed:
 * what HR reads back from its outbox is checked against Notification's contract before it goes, however it got
 * there; what a request queued (already checked as it was queued) goes as it was queued.
 *
 *   outbox row (inserted as a stale process or a hand might have left it) ──► relay (deliverDue) ──► recorded sends
 *   invite queued by a booking (QueuedEmail, reserved) ──► fast path (deliverNow) ──────────────────┘
 */

let tdb: TestDatabase;
let pool: Pool;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  tdb = await createTestDatabase(inject('testServerUrl'), 'hrinvites');
  pool = createPool(tdb.url, { max: 2, name: 'hr-invite-delivery-test' });
  await migrate(pool, HR_SCHEMA, hrMigrations);
});

afterAll(async () => {
  await pool?.end();
  await tdb?.drop();
});

/** What HR hands Notification for one email, as its client takes it. */
type Handed = Parameters<NotificationClient['sendEmails']>[0][number]['request'];

/** A client that accepts every email and keeps what it was handed, batch by batch. */
function recordingClient(): NotificationClient & { batches: Handed[][] } {
  const batches: Handed[][] = [];
  return {
    batches,
    sendEmail: () => Promise.reject(new Error('HR sends its invites in batches')),
    sendEmails: (batch) => {
      batches.push(batch.map((b) => b.request));
      return Promise.resolve(batch.map(() => ({ state: 'created' as const, email: {} as Awaited<ReturnType<NotificationClient['sendEmail']>> })));
    },
  };
}

function invites(resignationId: string) {
  const start = new Date('2027-03-10T09:00:00Z');
  return inviteEmails(
    'REQUEST',
    {
      interviewId: randomUUID(),
      resignationId,
      uid: `${randomUUID()}@ems.test`,
      sequence: 0,
      start,
      end: new Date(start.getTime() + 45 * 60_000),
      employee: { name: 'Alice Leaver', email: `alice.${resignationId}@example.com`, timezone: 'Europe/Berlin' },
      hrPartner: { name: 'Pat Partner', email: `pat.${resignationId}@example.com`, timezone: 'America/New_York' },
    },
    new Date(),
  ).map((i) => i.email);
}

/** Outbox rows, due now, as they stand in the table; the interview they belong to is not this test's subject (its keys are not checked). */
async function queueRows(requests: readonly unknown[]): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    const ids: number[] = [];
    for (const request of requests) {
      const r = request as { purpose?: string; to?: { email?: string } };
      const row = await client.query<{ id: string }>(
        `INSERT INTO ${HR_SCHEMA}.outbox (interview_id, purpose, recipient, request, status, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, now() - interval '1 second') RETURNING id`,
        [randomUUID(), r.purpose ?? `interview-invite:${randomUUID()}:0`, r.to?.email ?? `${randomUUID()}@example.com`, JSON.stringify(request)],
      );
      ids.push(Number(row.rows[0]!.id));
    }
    return ids;
  } finally {
    await client.query('SET session_replication_role = origin');
    client.release();
  }
}

describe("HR's invite delivery", () => {
  it('when a due outbox row does not match Notification’s contract, then the relay never sends it and records it failed with why; the case’s well-formed rows go', async () => {
    const resignationId = randomUUID();
    const [good, other] = invites(resignationId);
    // Read back from the table, the row is whatever is there: here an invite whose address is not one.
    const malformed = { ...other!, to: { email: 'not an address', name: 'Pat Partner' } };
    const [goodId, badId] = await queueRows([good, malformed]);
    const client = recordingClient();
    const delivery = createInviteDelivery({ db: createKysely<HrDB>(pool, HR_SCHEMA), log, client, retryBaseMs: 1_000 });

    expect(await delivery.deliverDue(10)).toBe(2);

    expect(client.batches.flat().map((r) => r.to.email)).toEqual([good!.to.email]);
    const rows = await pool.query<{ id: string; status: string; last_error: string | null }>(`SELECT id, status, last_error FROM ${HR_SCHEMA}.outbox WHERE id = ANY($1) ORDER BY id`, [[goodId, badId]]);
    expect(rows.rows.map((r) => [Number(r.id), r.status])).toEqual([
      [goodId, 'sent'],
      [badId, 'failed'],
    ]);
    expect(JSON.parse(rows.rows[1]!.last_error!)).toEqual([expect.objectContaining({ path: ['to', 'email'], message: 'Invalid email address' })]);
  });

  it('when a booking’s invites are sent on its fast path, then both go in one call, exactly as queued, and are marked sent', async () => {
    const resignationId = randomUUID();
    const requests = invites(resignationId);
    const ids = await queueRows(requests);
    const client = recordingClient();
    const delivery = createInviteDelivery({ db: createKysely<HrDB>(pool, HR_SCHEMA), log, client, retryBaseMs: 1_000 });

    await delivery.deliverNow(ids.map((id, i) => ({ id, request: requests[i]!, reservedUntil: Date.now() + 60_000 })));

    expect(client.batches).toEqual([requests]);
    const rows = await pool.query<{ status: string }>(`SELECT status FROM ${HR_SCHEMA}.outbox WHERE id = ANY($1)`, [ids]);
    expect(rows.rows.map((r) => r.status)).toEqual(['sent', 'sent']);
  });
});
