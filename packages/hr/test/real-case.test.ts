import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import type { Employee } from '@ems/demo-org';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { ServiceCallError } from '@ems/platform';
import { call, manualClock, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

type Interview = hr.Interview;
type Problem = { type: string; title: string; status: number; detail?: string };

/**
 * HR books an exit interview only for a real case: before booking it asks EMS whether the resignation
 * exists and whose it is (the harness's stand-in for EMS's GET /api/resignations/{id}). The orchestrator's
 * token alone is not enough: an unknown case is 404, another employee's case 409, and while EMS cannot
 * be asked, 503 — and in each, nothing is booked, queued, sent or announced.
 */
const UNKNOWN_CASE = 'https://ems.dev/problems/unknown-case';
const CASE_MISMATCH = 'https://ems.dev/problems/case-mismatch';

const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;

// The relay is not started: every email the stub receives was sent by a booking request itself (fast path).
beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({ label: 'hrrealcase', clock, notificationUrl: stub.url, bus: async (pool) => (bus = await createRecordingBus(pool)) });
});
afterEach(() => {
  h.cases.failWith = undefined;
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});

const partnerEmail = (e: Employee) => h.org.hrPartners.find((p) => p.id === e.hrPartnerId)!.email;

/** POST /api/interviews as the orchestrator calls it (EMS's service token); whether EMS knows the case is up to the test. */
const schedule = async <T = Interview>(body: hr.ScheduleInterviewRequest) => call<T>(h.base, 'POST', hr.HrPaths.interviews, body, await h.asEms());
const count = async (sql: string, params: unknown[] = []) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
const emailsFor = (resignationId: string) => stub.received.filter((r) => r.request.resignationId === resignationId);
/** Nothing of the case is in HR: no interview, no invite queued for delivery, no exit-interview-scheduled. */
async function expectNothingBookedFor(resignationId: string): Promise<void> {
  expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(0);
  expect(await count(`hr.outbox WHERE request->>'resignationId' = $1`, [resignationId])).toBe(0);
  expect((await bus.published()).filter((e) => e.subject === resignationId)).toEqual([]);
}
/**
 * A barrier: book a legitimate interview and wait until both its invites have reached Notification.
 * Whatever an earlier request had sent would have arrived by then.
 */
async function bookAndAwaitInvites(employee: Employee): Promise<Interview> {
  const body = { resignationId: h.cases.add(randomUUID(), employee.id), employeeId: employee.id, lastWorkingDay: '2026-03-31' };
  const res = await schedule(body);
  expect(res.status).toBe(201);
  const invites = await waitFor(() => (emailsFor(body.resignationId).length >= 2 ? emailsFor(body.resignationId) : undefined), 'the legitimate booking’s invites', 10_000);
  expect(invites.map((r) => r.request.to.email).sort()).toEqual([employee.email, partnerEmail(employee)].sort());
  return res.body;
}

describe('HR books an exit interview only for a case EMS knows', () => {
  it('when the orchestrator books for a resignation EMS does not know, then 404 unknown-case, no interview is stored and nothing is sent to Notification', async () => {
    const employee = h.employeeOf('hrp-berlin');
    const resignationId = randomUUID(); // never added: EMS knows no such case

    const refused = await schedule<Problem>({ resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' });

    expect(refused.status).toBe(404);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: UNKNOWN_CASE, status: 404 });
    expect(refused.body.detail).toContain(resignationId);
    await expectNothingBookedFor(resignationId);

    // Barrier: a legitimate booking for the same employee goes through and its invites arrive; the refused case got none.
    await bookAndAwaitInvites(employee);
    expect(emailsFor(resignationId)).toEqual([]);
    expect(stub.received.filter((r) => r.request.to.email === employee.email)).toHaveLength(1);
  });

  it('when the orchestrator books a known case for another employee, then 409 case-mismatch, nothing is stored or sent, and the case’s own employee is still booked', async () => {
    const owner = h.employeeOf('hrp-berlin');
    const intruder = h.employeeOf('hrp-berlin');
    const resignationId = h.cases.add(randomUUID(), owner.id);

    const refused = await schedule<Problem>({ resignationId, employeeId: intruder.id, lastWorkingDay: '2026-03-31' });

    expect(refused.status).toBe(409);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: CASE_MISMATCH, status: 409 });
    expect(refused.body.detail).toContain(resignationId);
    await expectNothingBookedFor(resignationId);

    // Barrier: the case booked for its own employee goes through; no invite ever went to the other employee.
    const booked = await schedule({ resignationId, employeeId: owner.id, lastWorkingDay: '2026-03-31' });
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ resignationId, employeeId: owner.id });
    const invites = await waitFor(() => (emailsFor(resignationId).length >= 2 ? emailsFor(resignationId) : undefined), 'the owner’s invites', 10_000);
    expect(invites.map((r) => r.request.to.email).sort()).toEqual([owner.email, partnerEmail(owner)].sort());
    expect(stub.received.filter((r) => r.request.to.email === intruder.email)).toEqual([]);
    expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(1);
  });

  it('when EMS cannot be asked about the case, then 503 (the orchestrator retries), nothing is stored or sent; once EMS answers, the same request books it', async () => {
    const employee = h.employeeOf('hrp-newyork');
    const resignationId = h.cases.add(randomUUID(), employee.id);
    const body = { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' };
    h.cases.failWith = new ServiceCallError('GET http://ems.invalid/api/resignations failed: connect ECONNREFUSED', undefined, true);

    const unavailable = await schedule<Problem>(body);

    expect(unavailable.status).toBe(503);
    expect(unavailable.contentType).toContain('application/problem+json');
    expect(unavailable.body.status).toBe(503);
    expect(unavailable.body.detail).toContain(resignationId);
    await expectNothingBookedFor(resignationId);
    expect(emailsFor(resignationId)).toEqual([]);

    // EMS is back: the retry books the case once, and only now are the invites sent.
    h.cases.failWith = undefined;
    const retried = await schedule(body);
    expect(retried.status).toBe(201);
    expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(1);
    const invites = await waitFor(() => (emailsFor(resignationId).length >= 2 ? emailsFor(resignationId) : undefined), 'the retried booking’s invites', 10_000);
    expect(invites.map((r) => r.request.to.email).sort()).toEqual([employee.email, partnerEmail(employee)].sort());
  });

  it('when EMS answers something HR cannot use (a non-retryable failure), then 502, and nothing is stored or sent', async () => {
    const employee = h.employeeOf('hrp-newyork');
    const resignationId = h.cases.add(randomUUID(), employee.id);
    h.cases.failWith = new ServiceCallError('EMS answered a case that does not match the contract', undefined, false);

    const refused = await schedule<Problem>({ resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' });

    expect(refused.status).toBe(502);
    expect(refused.contentType).toContain('application/problem+json');
    await expectNothingBookedFor(resignationId);

    h.cases.failWith = undefined;
    await bookAndAwaitInvites(h.employeeOf('hrp-newyork'));
    expect(emailsFor(resignationId)).toEqual([]);
  });
});
