import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventTypes } from '@ems/contracts/events';
import type { Employee } from '@ems/demo-org';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { call, HR_LEAD, manualClock, startHr, startNotificationStub, type Headers, type HrUnderTest, type NotificationStub } from './harness.ts';

type Interview = hr.Interview;
type Problem = { type: string; title: string; status: number; detail?: string; permission?: string };

/**
 * Who may do what with an exit interview, as the policy table says: only the orchestrator books one;
 * the HR partner holds (and reads) the interviews of the employees assigned to them, and another
 * partner's interview answers like an unknown one; the employee reads their own without the notes.
 */
const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;

beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({ label: 'hrpolicy', clock, notificationUrl: stub.url, bus: async (pool) => (bus = await createRecordingBus(pool)) });
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});

/** An employee who holds no role (hr_lead, access_admin, …): an employee token here carries only an employee's rights. */
const employeeOf = (partnerId: string): Employee => h.employeeOf(partnerId, (x) => !h.org.roleAssignments.some((a) => a.personId === x.id));
/** Booked as the orchestrator books it (EMS's service token), for a case EMS knows. */
async function book(employee: Employee): Promise<Interview> {
  const resignationId = h.cases.add(randomUUID(), employee.id);
  const res = await call<Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
  expect(res.status).toBe(201);
  return res.body;
}
const held = <T = Interview>(id: string, body: unknown, as: Headers) => call<T>(h.base, 'POST', hr.HrPaths.held(id), body, as);
const read = <T = Interview>(id: string, as: Headers) => call<T>(h.base, 'GET', hr.HrPaths.interview(id), undefined, as);
const count = async (sql: string, params: unknown[] = []) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

describe('an HR partner and the interviews of the employees assigned to them', () => {
  it('when an HR partner marks held the interview of an employee assigned to them, then 200; the interview of an employee not assigned to them answers 404 like an unknown one, and stays unchanged', async () => {
    const mine = await book(employeeOf('hrp-berlin'));
    const theirs = await book(employeeOf('hrp-newyork'));
    const berlin = await h.as('hrp-berlin');
    clock.set([mine.start, theirs.start].sort().at(-1)!); // both have taken place

    const ok = await held(mine.id, { notes: 'Leaving for a shorter commute.' }, berlin);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: mine.id, status: 'held', notes: 'Leaving for a shorter commute.' });

    const hidden = await held<Problem>(theirs.id, { notes: 'Not mine to write.' }, berlin);
    const unknownId = randomUUID();
    const unknown = await held<Problem>(unknownId, { notes: 'Nobody’s.' }, berlin);
    expect(hidden.status).toBe(404);
    expect(hidden.contentType).toContain('application/problem+json');
    // The same answer as for an id that does not exist, but for the id: nothing tells the interview is there.
    expect(hidden.body).toEqual(JSON.parse(JSON.stringify(unknown.body).replaceAll(unknownId, theirs.id)));

    // Their own HR partner still finds it as it was booked: not held, no notes, nothing announced.
    expect((await read(theirs.id, await h.as('hrp-newyork'))).body).toEqual(theirs);
    expect((await bus.published(EventTypes.exitInterviewHeld)).filter((e) => e.subject === theirs.resignationId)).toEqual([]);
    expect((await bus.published(EventTypes.exitInterviewHeld)).filter((e) => e.subject === mine.resignationId)).toHaveLength(1);
  });
});

describe('the employee’s own view of their interview', () => {
  it('when the employee reads their own interview, then it comes without the notes (notes: null); their HR partner and the HR lead read the notes', async () => {
    const employee = employeeOf('hrp-berlin');
    const booked = await book(employee);
    clock.set(booked.start);
    const withNotes = await held(booked.id, { notes: 'Would stay for a move to the platform team.' }, await h.asPartnerOf(employee.id));
    expect(withNotes.status).toBe(200);
    const self = await h.as(employee.id);

    const own = await read(booked.id, self);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ ...withNotes.body, notes: null });
    // Listing, they see their own interview only, without the notes either.
    const listed = await call<{ items: Interview[] }>(h.base, 'GET', hr.HrPaths.interviews, undefined, self);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ ...withNotes.body, notes: null }]);
    // Someone else's interview does not exist for them.
    const other = await book(employeeOf('hrp-berlin'));
    expect((await read(other.id, self)).status).toBe(404);

    expect((await read(booked.id, await h.asPartnerOf(employee.id))).body).toEqual(withNotes.body);
    expect((await read(booked.id, await h.as(HR_LEAD))).body.notes).toBe('Would stay for a move to the platform team.');
  });
});

describe('booking is the orchestrator’s', () => {
  it('when an employee’s token books an interview, then 403 naming the permission scheduleInterview, and nothing is stored or sent', async () => {
    const employee = employeeOf('hrp-berlin');
    // A real case of theirs: what refuses them is the policy, not the case.
    const resignationId = h.cases.add(randomUUID(), employee.id);
    const body = { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' };

    const refused = await call<Problem>(h.base, 'POST', hr.HrPaths.interviews, body, await h.as(employee.id));

    expect(refused.status).toBe(403);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ status: 403, permission: 'scheduleInterview' });
    // Not even their HR partner books it: the policy grants it to no role.
    expect((await call<Problem>(h.base, 'POST', hr.HrPaths.interviews, body, await h.asPartnerOf(employee.id))).body).toMatchObject({ status: 403, permission: 'scheduleInterview' });
    expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(0);
    expect(await count(`hr.outbox WHERE request->>'resignationId' = $1`, [resignationId])).toBe(0);
    expect(stub.received.filter((r) => r.request.resignationId === resignationId)).toEqual([]);
    expect((await bus.published()).filter((e) => e.subject === resignationId)).toEqual([]);
  });

  it('when a request carries no token, then 401 and nothing changes', async () => {
    const booked = await book(employeeOf('hrp-berlin'));

    const anonymous = await call<Problem>(h.base, 'POST', hr.HrPaths.held(booked.id), { notes: 'Who am I?' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.contentType).toContain('application/problem+json');
    expect((await call<Problem>(h.base, 'GET', hr.HrPaths.employees)).status).toBe(401);

    expect((await read(booked.id, await h.as(HR_LEAD))).body).toEqual(booked);
  });
});
