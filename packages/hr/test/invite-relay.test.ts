import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@ems/platform';
import { hr } from '@ems/contracts';
import { call, icsValues, manualClock, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

const clock = manualClock('2026-03-02T10:00:00Z');
let port: number;
let h: HrUnderTest;
let stub: NotificationStub | undefined;

// Notification lives at a fixed port so it can go away and come back; the relay runs every 100 ms.
beforeAll(async () => {
  port = await freePort();
  h = await startHr({ label: 'hrrelay', clock, notificationUrl: `http://127.0.0.1:${port}`, relayIntervalMs: 100, startRelay: true });
});
afterEach(async () => {
  await stub?.stop();
  stub = undefined;
});
afterAll(async () => {
  await h?.stop();
});

const outbox = async (interviewId: string) =>
  (
    await h.pool.query<{ status: string; attempts: number; last_error: string | null; recipient: string }>(
      'SELECT status, attempts, last_error, recipient FROM hr.outbox WHERE interview_id = $1 ORDER BY id',
      [interviewId],
    )
  ).rows;
const book = async () => {
  const e = h.employeeOf('hrp-berlin');
  // As the orchestrator books it (EMS's service token), for a case EMS knows.
  const resignationId = h.cases.add(randomUUID(), e.id);
  const res = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: e.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
  expect(res.status).toBe(201);
  return { interview: res.body, employee: e };
};

describe('invite delivery when Notification is unavailable', () => {
  it('when Notification is down, then the interview is still booked, and the relay delivers both invites once it is back', async () => {
    const { interview, employee: e } = await book(); // nothing listens on the port: connection refused

    expect(hr.Interview.parse(interview).status).toBe('scheduled');
    const pending = await outbox(interview.id);
    expect(pending.map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(pending.every((r) => r.attempts >= 1 && r.last_error !== null)).toBe(true);
    // The relay keeps trying while it is down.
    await waitFor(async () => ((await outbox(interview.id)).every((r) => r.attempts >= 3) ? true : undefined), 'relay retries');

    stub = await startNotificationStub(port);
    const sent = await waitFor(async () => {
      const rows = await outbox(interview.id);
      return rows.every((r) => r.status === 'sent') ? rows : undefined;
    }, 'invites delivered by the relay');
    // Retried together (one delay for the case's emails), so delivered together: one call for both invites.
    expect(stub.calls).toBe(1);
    expect(sent.map((r) => r.recipient).sort()).toEqual([e.email, h.org.hrPartners.find((p) => p.id === 'hrp-berlin')!.email].sort());
    const emails = stub.emails().filter((m) => m.resignationId === interview.resignationId);
    expect(emails).toHaveLength(2);
    for (const m of emails) {
      expect(icsValues(m.attachments[0]!.content, 'UID')).toEqual([interview.uid]);
      expect(icsValues(m.attachments[0]!.content, 'METHOD')).toEqual(['REQUEST']);
    }
    // The relay calls Notification with HR's service token, as the request itself does.
    const relayed = stub.received.filter((r) => r.request.resignationId === interview.resignationId);
    expect(relayed.length).toBeGreaterThanOrEqual(2);
    for (const r of relayed) expect(r.authorization).toMatch(/^Bearer [A-Za-z0-9._~+/=-]+$/);
    // Delivered means done: nothing is sent again.
    const received = stub.received.length;
    // Barrier: a relay round begun after the delivery has ended — anything it would send again went out in it.
    await h.service.inviteRelay.drained();
    expect(stub.received.length).toBe(received);
  });

  it('when Notification answers 503 for a while, then the relay retries with backoff until it is accepted', async () => {
    stub = await startNotificationStub(port);
    stub.failWith = 503;
    const { interview } = await book();
    await waitFor(async () => ((await outbox(interview.id)).every((r) => r.attempts >= 2) ? true : undefined), 'retries against 503');
    expect((await outbox(interview.id)).every((r) => r.status === 'pending' && r.last_error!.includes('503'))).toBe(true);

    stub.failWith = undefined;
    await waitFor(async () => ((await outbox(interview.id)).every((r) => r.status === 'sent') ? true : undefined), 'delivery after recovery');
    expect(stub.emails().filter((m) => m.resignationId === interview.resignationId)).toHaveLength(2);
  });

  it('when Notification refuses an invite as invalid (4xx), then it is marked failed and not retried', async () => {
    stub = await startNotificationStub(port);
    stub.failWith = 422;
    const { interview } = await book();
    const rows = await outbox(interview.id);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['failed', 1],
      ['failed', 1],
    ]);
    // Both invites went in one call (the batch form), refused as one.
    expect(stub.calls).toBe(1);
    stub.failWith = undefined;
    await h.service.inviteRelay.drained();
    expect((await outbox(interview.id)).map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(stub.received.filter((m) => m.request.resignationId === interview.resignationId)).toEqual([]);
  });

  it('when several cases’ invites are accepted at the same time, then each case’s are marked sent (marks written together) and none is sent again', async () => {
    stub = await startNotificationStub(port);
    const booked = await Promise.all(Array.from({ length: 6 }, () => book()));
    for (const { interview } of booked) {
      await waitFor(async () => ((await outbox(interview.id)).every((r) => r.status === 'sent') ? true : undefined), `invites of ${interview.id} marked sent`);
    }
    // Barrier: a relay round begun after every mark — a row left pending would have been sent again in it.
    await h.service.inviteRelay.drained();
    for (const { interview } of booked) {
      expect(stub.emails().filter((m) => m.resignationId === interview.resignationId)).toHaveLength(2);
    }
  });

  it('when a cancellation cannot be delivered at first, then the relay delivers it later too', async () => {
    stub = await startNotificationStub(port);
    const { interview, employee: e } = await book();
    await stub.stop();
    stub = undefined;
    const cancelled = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.cancel(interview.id), undefined, await h.asPartnerOf(e.id));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');

    stub = await startNotificationStub(port);
    await waitFor(async () => ((await outbox(interview.id)).every((r) => r.status === 'sent') ? true : undefined), 'cancellation delivered');
    const cancels = stub.emails().filter((m) => m.resignationId === interview.resignationId && m.template === 'exit-interview-cancelled');
    expect(cancels).toHaveLength(2);
    expect(cancels.every((m) => icsValues(m.attachments[0]!.content, 'METHOD')[0] === 'CANCEL')).toBe(true);
  });
});
