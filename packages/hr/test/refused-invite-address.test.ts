/**
 * An invite Notification would refuse: its recipient's address is longer than the 254 characters Notification takes
 * (RFC 5321's path limit), though the directory holds addresses up to 320 (DirectoryPerson). HR books the interview
 * all the same and sends the other person's invite; the invite that cannot be sent is recorded failed in HR's outbox,
 * naming the address and why, and is never sent or retried — as when Notification itself refuses an invite
 * (deliver-invites.ts), and as a follow-up it refuses is recorded skipped. Before, queuing it threw a ZodError: a 500
 * from POST /api/interviews (the orchestrator asked again and again) and an error for the resignation-submitted
 * handler (the bus retried it until it gave up). Real PostgreSQL, real HTTP; the address arrives as it does in
 * production, in a personChanged snapshot applied by HR's directory follower.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { hr } from '@ems/contracts';
import { EventSources, EventTypes, ExitInterviewScheduled, type DirectoryPerson, type PersonChanged } from '@ems/contracts/events';
import { createEvent, type Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import type { Employee } from '@ems/demo-org';
import { SCHEDULE_INTERVIEW_SUBSCRIBER, UPDATE_DIRECTORY_SUBSCRIBER } from '../src/index.ts';
import { call, manualClock, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

const clock = manualClock('2026-03-02T10:00:00Z'); // Monday
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;
let schedule: Subscription;
let directory: Subscription;

// HR reacting to events (choreography's handler) and serving HTTP (the orchestrator's command), its relay running
// every 50 ms: an invite it would retry is retried well within a test.
beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({
    label: 'hrrefusedaddr',
    clock,
    notificationUrl: stub.url,
    reactToEvents: true,
    relayIntervalMs: 50,
    startRelay: true,
    bus: async (pool) => (bus = await createRecordingBus(pool)),
  });
  const subscriber = (name: string) => h.service.subscriptions!.find((s) => s.name === name)!;
  schedule = subscriber(SCHEDULE_INTERVIEW_SUBSCRIBER);
  directory = subscriber(UPDATE_DIRECTORY_SUBSCRIBER);
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});

type Person = z.infer<typeof DirectoryPerson>;

/** An address the directory holds (≤ 320) but Notification refuses (> 254): four 60-letter labels. */
const tooLong = (local: string) => `${local}@${`${'a'.repeat(60)}.`.repeat(4)}example.com`;

let version = 1000;
/** The directory's snapshot of a person, as Identity publishes it, applied by HR's follower. */
const changed = (person: Person) =>
  directory.handle(
    createEvent<z.infer<typeof PersonChanged>>({
      type: EventTypes.personChanged,
      source: EventSources.identity,
      subject: person.id,
      correlationId: `directory-${person.id}`,
      data: { person, version: ++version, previous: null, origin: 'import', changedAt: clock.now().toISOString() },
    }),
    { attempt: 1, lastAttempt: false },
  );

/** Whose address Notification refuses: the HR partner's (all of hrp-newyork's employees) or one employee's. */
type Whose = 'partner' | 'employee';
const BAD_PARTNER = 'hrp-newyork';
const PARTNER_ADDRESS = tooLong('hr.partner');

/** A fresh employee to book for, and the invite addresses of the case: the one refused and the one that goes. */
async function caseWithRefusedAddress(whose: Whose): Promise<{ employee: Employee; refused: string; sent: string }> {
  if (whose === 'partner') {
    const employee = h.employeeOf(BAD_PARTNER);
    return { employee, refused: PARTNER_ADDRESS, sent: employee.email };
  }
  const employee = h.employeeOf('hrp-berlin');
  const refused = tooLong(employee.id.toLowerCase());
  const department = h.org.departments.find((d) => d.id === employee.departmentId)!.name;
  await changed({
    id: employee.id, name: employee.name, email: refused, title: employee.title, department, location: employee.location, timezone: employee.timezone,
    workingHours: employee.workingHours, managerId: employee.managerId, hrPartnerId: employee.hrPartnerId, roles: [], active: true,
  });
  return { employee, refused, sent: h.org.hrPartners.find((p) => p.id === 'hrp-berlin')!.email };
}

beforeAll(async () => {
  const p = h.org.hrPartners.find((x) => x.id === BAD_PARTNER)!;
  await changed({
    id: p.id, name: p.name, email: PARTNER_ADDRESS, title: 'HR Partner', department: null, location: null, timezone: p.timezone,
    workingHours: p.workingHours, managerId: null, hrPartnerId: null, roles: [], active: true,
  });
  expect((await h.pool.query('SELECT email FROM hr.hr_partners WHERE id = $1', [BAD_PARTNER])).rows).toEqual([{ email: PARTNER_ADDRESS }]);
});

const outbox = async (interviewId: string) =>
  (
    await h.pool.query<{ purpose: string; recipient: string; status: string; attempts: number; last_error: string | null }>(
      'SELECT purpose, recipient, status, attempts, last_error FROM hr.outbox WHERE interview_id = $1 ORDER BY purpose, recipient',
      [interviewId],
    )
  ).rows;
const invitesTo = (resignationId: string) => stub.received.filter((r) => r.request.resignationId === resignationId);

/**
 * Each version of the interview (`purposes`): its invite to `sent` delivered, the one to `refused` recorded failed,
 * never attempted, naming the address and Notification's limit; and, once a relay round begun after that has ended,
 * nothing was sent to the refused address or sent twice.
 */
async function expectRefusedInviteRecorded(resignationId: string, interviewId: string, to: { refused: string; sent: string }, purposes: string[]) {
  await waitFor(async () => ((await outbox(interviewId)).filter((r) => r.status === 'sent').length === purposes.length ? true : undefined), 'the deliverable invites sent', 10_000);
  await h.service.inviteRelay.drained();
  const rows = await outbox(interviewId);
  const byKey = <T extends { purpose: string; recipient: string }>(list: T[]) => [...list].sort((a, b) => (`${a.purpose} ${a.recipient}` < `${b.purpose} ${b.recipient}` ? -1 : 1));
  expect(byKey(rows.map(({ purpose, recipient, status }) => ({ purpose, recipient, status })))).toEqual(
    byKey(purposes.flatMap((purpose) => [
      { purpose, recipient: to.refused.toLowerCase(), status: 'failed' },
      { purpose, recipient: to.sent.toLowerCase(), status: 'sent' },
    ])),
  );
  for (const r of rows.filter((x) => x.status === 'failed')) {
    expect(r.attempts).toBe(0);
    expect(r.last_error).toContain(to.refused);
    expect(r.last_error).toMatch(/Notification refuses.*to\.email.*254/s);
  }
  const delivered = invitesTo(resignationId);
  expect(delivered.map((d) => `${d.request.purpose} ${d.request.to.email}`).sort()).toEqual(purposes.map((p) => `${p} ${to.sent}`).sort());
}

/**
 * What HR's answer and exit-interview-scheduled say of a version's invites: the refused one, whose it is, and HR's
 * reason — the words its outbox recorded after 'not sent: ' (naming the address).
 */
async function expectedNotSent(interviewId: string, purpose: string, whose: Whose, refused: string) {
  const row = (await outbox(interviewId)).find((r) => r.purpose === purpose && r.recipient === refused.toLowerCase())!;
  expect(row.last_error).toMatch(/^not sent: Notification refuses this email to /);
  return [{ to: whose === 'partner' ? 'hrPartner' : 'employee', reason: row.last_error!.slice('not sent: '.length) }];
}

describe.each(['partner', 'employee'] as const)("when Notification would refuse the %s's address", (whose) => {
  it('when the orchestrator books over HTTP, then 201: the interview is booked, the other invite sent, the refused one recorded failed and never sent', async () => {
    const { employee, refused, sent } = await caseWithRefusedAddress(whose);
    const resignationId = h.cases.add(randomUUID(), employee.id);

    const res = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());

    expect(res.status).toBe(201);
    const interview = hr.Interview.parse(res.body);
    expect(interview).toMatchObject({ resignationId, employeeId: employee.id, status: 'scheduled', sequence: 0 });
    await expectRefusedInviteRecorded(resignationId, interview.id, { refused, sent }, [`interview-invite:${interview.id}:0`]);
    // The answer says which invite was not sent and why, so the case can show it.
    const notSent = await expectedNotSent(interview.id, `interview-invite:${interview.id}:0`, whose, refused);
    expect(interview.invitesNotSent).toEqual(notSent);
    // A repeat of the command answers the same booking (200), queuing nothing more, and says the same.
    const again = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(interview.id);
    expect(hr.Interview.parse(again.body).invitesNotSent).toEqual(notSent);
    expect(await outbox(interview.id)).toHaveLength(2);
  });

  it('when the resignation-submitted event arrives, then the handler books it and publishes exit-interview-scheduled (no error to retry, no failure event)', async () => {
    const { employee, refused, sent } = await caseWithRefusedAddress(whose);
    const event = resignationSubmittedEvent({ employee, hrPartnerId: employee.hrPartnerId, lastWorkingDay: '2026-03-31', submittedAt: clock.now() });
    const resignationId = event.data.resignationId;

    await schedule.handle(event, { attempt: 1, lastAttempt: false });

    const outcomes = (await bus.published()).filter((e) => e.type !== EventTypes.resignationSubmitted && e.subject === resignationId);
    expect(outcomes.map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled]);
    const { interviewId, invitesNotSent } = ExitInterviewScheduled.parse(outcomes[0]!.data);
    await expectRefusedInviteRecorded(resignationId, interviewId, { refused, sent }, [`interview-invite:${interviewId}:0`]);
    // The event says which invite was not sent and why, as the HTTP answer does.
    expect(invitesNotSent).toEqual(await expectedNotSent(interviewId, `interview-invite:${interviewId}:0`, whose, refused));
  });
});

it("when the interview with a partner whose address Notification refuses is moved, then cancelled, then each answers 200 and each version's invite goes to the employee only", async () => {
  const { employee, refused, sent } = await caseWithRefusedAddress('partner');
  const resignationId = h.cases.add(randomUUID(), employee.id);
  const booked = await call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
  expect(booked.status).toBe(201);
  const id = booked.body.id;

  const moved = await call<hr.Interview>(h.base, 'POST', `/api/interviews/${id}/reschedule`, {}, await h.asPartnerOf(employee.id));
  expect(moved.status).toBe(200);
  expect(moved.body).toMatchObject({ status: 'scheduled', sequence: 1 });
  const cancelled = await call<hr.Interview>(h.base, 'POST', `/api/interviews/${id}/cancel`, {}, await h.asPartnerOf(employee.id));
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'cancelled', sequence: 2 });

  await expectRefusedInviteRecorded(resignationId, id, { refused, sent }, [`interview-cancelled:${id}:2`, `interview-invite:${id}:0`, `interview-invite:${id}:1`]);
  // The move's answer names the partner's invite of the new version as not sent; the cancellation's names none.
  expect(hr.Interview.parse(moved.body).invitesNotSent).toEqual(await expectedNotSent(id, `interview-invite:${id}:1`, 'partner', refused));
  expect(cancelled.body.invitesNotSent).toBeUndefined();
});

it("when the employee bears their HR partner's name and the partner's address is refused, then the booking, the move and their repeats (read back from the outbox) name the partner's invite", async () => {
  const employee = h.employeeOf(BAD_PARTNER);
  const partner = h.org.hrPartners.find((p) => p.id === BAD_PARTNER)!;
  const department = h.org.departments.find((d) => d.id === employee.departmentId)!.name;
  await changed({
    id: employee.id, name: partner.name, email: employee.email, title: employee.title, department, location: employee.location, timezone: employee.timezone,
    workingHours: employee.workingHours, managerId: employee.managerId, hrPartnerId: employee.hrPartnerId, roles: [], active: true,
  });
  const resignationId = h.cases.add(randomUUID(), employee.id);
  const book = async () => call<hr.Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
  const booked = await book();
  const bookedAgain = await book();
  expect([booked.status, bookedAgain.status]).toEqual([201, 200]);
  const id = booked.body.id;
  const key = randomUUID();
  const move = async () => call<hr.Interview>(h.base, 'POST', `/api/interviews/${id}/reschedule`, {}, { ...(await h.asPartnerOf(employee.id)), 'idempotency-key': key });
  const moved = await move();
  const movedAgain = await move();
  expect([moved.status, movedAgain.status]).toEqual([200, 200]);
  expect(movedAgain.body.sequence).toBe(1);

  await expectRefusedInviteRecorded(resignationId, id, { refused: PARTNER_ADDRESS, sent: employee.email }, [`interview-invite:${id}:0`, `interview-invite:${id}:1`]);
  const atBooking = await expectedNotSent(id, `interview-invite:${id}:0`, 'partner', PARTNER_ADDRESS);
  expect(hr.Interview.parse(booked.body).invitesNotSent).toEqual(atBooking);
  expect(hr.Interview.parse(bookedAgain.body).invitesNotSent).toEqual(atBooking);
  const atMove = await expectedNotSent(id, `interview-invite:${id}:1`, 'partner', PARTNER_ADDRESS);
  expect(hr.Interview.parse(moved.body).invitesNotSent).toEqual(atMove);
  expect(hr.Interview.parse(movedAgain.body).invitesNotSent).toEqual(atMove);
});
