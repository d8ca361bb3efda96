/**
 * Invites of several interviews go to Notification together: one call (one store there, one mark here) for
 * what is due at once, where each interview was a call of its own. A refusal of the call that names no email
 * cannot say whose it is: each case is then sent alone, and only the refused one is given up.
 *
 * Real PostgreSQL and HR over HTTP; Notification is the harness's stub on a fixed port (down, then up). The
 * relay's interval is long: it runs when the test asks (drained()), on rows the test made due.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createLogger, freePort } from '@ems/platform';
import { hr, notification } from '@ems/contracts';
import { createInviteDelivery } from '../src/deliver-invites/deliver-invites.ts';
import { HR_SCHEMA, type HrDB } from '../src/db/hr.db.ts';
import { createNotificationClient } from '../src/notification/notification.client.ts';
import { call, manualClock, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

const clock = manualClock('2026-03-02T10:00:00Z');
let port: number;
let h: HrUnderTest;
let stub: NotificationStub | undefined;

beforeAll(async () => {
  port = await freePort();
  h = await startHr({ label: 'hrinvtogether', clock, notificationUrl: `http://127.0.0.1:${port}`, relayIntervalMs: 600_000, startRelay: true });
});
afterEach(async () => {
  await stub?.stop();
  stub = undefined;
});
afterAll(async () => {
  await h?.stop();
});

type OutboxRow = { interview_id: string; status: string; recipient: string };
const outbox = async (interviewIds: readonly string[]) =>
  (await h.pool.query<OutboxRow>('SELECT interview_id, status, recipient FROM hr.outbox WHERE interview_id = ANY($1) ORDER BY id', [interviewIds])).rows;

/** Books interviews while Notification is down: each one's invites stay pending (its own call failed). */
async function bookWhileDown(count: number): Promise<hr.Interview[]> {
  const booked: hr.Interview[] = [];
  for (let i = 0; i < count; i++) {
    const e = h.employeeOf('hrp-berlin');
    const resignationId = h.cases.add(randomUUID(), e.id);
    const res = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: e.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
    expect(res.status).toBe(201);
    booked.push(res.body);
  }
  const ids = booked.map((b) => b.id);
  expect((await outbox(ids)).map((r) => r.status)).toEqual(Array(2 * count).fill('pending'));
  // Due now, all of them: the relay's next round takes them at once.
  await h.pool.query(`UPDATE hr.outbox SET next_attempt_at = now() WHERE interview_id = ANY($1)`, [ids]);
  return booked;
}

describe('invites of several interviews delivered together', () => {
  it('when the invites of three interviews are due at once, then they go to Notification in one call and each is delivered once', async () => {
    const booked = await bookWhileDown(3);
    stub = await startNotificationStub(port);

    await h.service.inviteRelay.drained();

    expect(stub.calls).toBe(1);
    expect((await outbox(booked.map((b) => b.id))).map((r) => r.status)).toEqual(Array(6).fill('sent'));
    for (const b of booked) expect(stub.emails().filter((m) => m.resignationId === b.resignationId)).toHaveLength(2);
    // Marked sent: a later round sends nothing again.
    await h.service.inviteRelay.drained();
    expect(stub.calls).toBe(1);
  });

  it('when Notification refuses such a call without naming an email, then each case is sent alone and only the refused case is given up', async () => {
    const [first, refused, third] = await bookWhileDown(3);
    stub = await startNotificationStub(port);
    stub.refuseCallWith = (email) => email.resignationId === refused!.resignationId;

    await h.service.inviteRelay.drained();

    // The call of the three, then one call per case.
    expect(stub.calls).toBe(4);
    const rows = await outbox([first!.id, refused!.id, third!.id]);
    const statusOf = (interviewId: string) => rows.filter((r) => r.interview_id === interviewId).map((r) => r.status);
    expect(statusOf(first!.id)).toEqual(['sent', 'sent']);
    expect(statusOf(refused!.id)).toEqual(['failed', 'failed']);
    expect(statusOf(third!.id)).toEqual(['sent', 'sent']);
    expect(stub.emails().filter((m) => m.resignationId === refused!.resignationId)).toEqual([]);
    // Given up means not retried.
    stub.refuseCallWith = undefined;
    await h.service.inviteRelay.drained();
    expect(stub.calls).toBe(4);
  });

  it('when every call is in flight, then the interviews booked meanwhile go together in the next free call', async () => {
    const booked = await bookWhileDown(10);
    stub = await startNotificationStub(port);
    let release!: () => void;
    stub.gate = new Promise<void>((resolve) => (release = resolve));
    // What a booking handler hands over (its rows, past their reservation here: claimed first, as the relay does).
    const rows = await h.pool.query<{ id: string; interview_id: string; request: notification.SendEmailRequest }>(
      'SELECT id, interview_id, request FROM hr.outbox WHERE interview_id = ANY($1) ORDER BY id',
      [booked.map((b) => b.id)],
    );
    const delivery = createInviteDelivery({
      db: createKysely<HrDB>(h.pool, HR_SCHEMA),
      log: createLogger({ level: 'silent' }),
      client: createNotificationClient({ notificationUrl: `http://127.0.0.1:${port}` }),
      retryBaseMs: 600_000,
    });

    for (const b of booked) {
      delivery.deliverSoon(rows.rows.filter((r) => r.interview_id === b.id).map((r) => ({ id: Number(r.id), request: r.request, reservedUntil: 0 })));
    }
    // Eight calls at once, a case each; the last two cases wait.
    await waitFor(async () => (stub!.calls === 8 ? true : undefined), 'eight calls in flight');
    release();

    await waitFor(async () => ((await outbox(booked.map((b) => b.id))).every((r) => r.status === 'sent') ? true : undefined), 'every invite delivered');
    // The two that waited went in one call.
    expect(stub.calls).toBe(9);
    for (const b of booked) expect(stub.emails().filter((m) => m.resignationId === b.resignationId)).toHaveLength(2);
    await delivery.stop();
  });
});
