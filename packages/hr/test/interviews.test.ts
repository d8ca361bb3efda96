import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hr, type notification } from '@ems/contracts';
import { call, HR_LEAD, icsInstant, icsValues, manualClock, startHr, startNotificationStub, type Headers, type HrUnderTest, type NotificationStub } from './harness.ts';

type Interview = hr.Interview;
type Problem = { type: string; title: string; status: number; detail?: string };

const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;

// The relay is NOT started in this file: every email the stub receives was sent by the request itself (fast path).
beforeAll(async () => {
  stub = await startNotificationStub();
  // Twice the demo organisation: enough people in each partner's own office for every test here.
  h = await startHr({ label: 'hrinterviews', clock, notificationUrl: stub.url, employees: 120 });
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});

/**
 * A different employee of the given HR partner for every use, so tests never share people; one in the
 * partner's own office, whose hours cover the partner's, so the partner's calendar alone decides the slot.
 */
const employeeOf = (partnerId: string) => h.employeeOf(partnerId, (x) => x.timezone === partner(partnerId).timezone);
const partner = (id: string) => h.org.hrPartners.find((p) => p.id === id)!;

/**
 * EMS knows every case these tests book for, of the employee the first booking names (a case's employee
 * never changes): HR asks EMS before it books, and refuses a case EMS does not know (real-case.test.ts).
 */
const named = new Set<string>();
function knownToEms(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const { resignationId, employeeId } = body as Record<string, unknown>;
  if (typeof resignationId !== 'string' || typeof employeeId !== 'string' || named.has(resignationId)) return;
  named.add(resignationId);
  h.cases.add(resignationId, employeeId);
}

// Each request carries the credentials of its real caller: the orchestrator (EMS's service token) books
// interviews; the interview's HR partner moves, cancels, holds and reads it; the HR lead reads everything.
const schedule = async <T = Interview>(body: unknown, headers: Headers = {}) => {
  knownToEms(body);
  return call<T>(h.base, 'POST', hr.HrPaths.interviews, body, { ...(await h.asEms()), ...headers });
};
const reschedule = async <T = Interview>(i: Interview, body: unknown, headers: Headers = {}) =>
  call<T>(h.base, 'POST', hr.HrPaths.reschedule(i.id), body, { ...(await h.as(i.hrPartnerId)), ...headers });
const cancel = async <T = Interview>(i: Interview, headers: Headers = {}) => call<T>(h.base, 'POST', hr.HrPaths.cancel(i.id), undefined, { ...(await h.as(i.hrPartnerId)), ...headers });
const held = async (i: Interview, body: unknown) => call<Interview>(h.base, 'POST', hr.HrPaths.held(i.id), body, await h.as(i.hrPartnerId));
const read = async (i: Interview) => call<Interview>(h.base, 'GET', hr.HrPaths.interview(i.id), undefined, await h.as(i.hrPartnerId));
const list = async (query: string, as = HR_LEAD) => call<{ items: Interview[]; nextOffset: number | null }>(h.base, 'GET', `${hr.HrPaths.interviews}?${query}`, undefined, await h.as(as));
const emailsFor = (resignationId: string) => stub.received.filter((r) => r.request.resignationId === resignationId);
/** An invite's typed data (refuses any other kind of email). */
const inviteData = (request: notification.SendEmailRequest) => {
  if (request.template !== 'exit-interview-invite' && request.template !== 'exit-interview-cancelled') throw new Error(`not an invite: ${request.template}`);
  return request.data;
};
/** How Notification checks who calls it: the same provider's tokens, for its own audience. */
let trust: ReturnType<HrUnderTest['identity']['securityFor']> | undefined;
const notificationTrust = () => (trust ??= h.identity.securityFor(['notification']));
const count = async (sql: string, params: unknown[] = []) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;

/** The partner's local weekday and time of an instant, e.g. 'Tue 09:30'. */
function localTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso)).replace(',', '');
}

describe('scheduling an interview', () => {
  it('when a resignation comes in, then the interview is booked in the HR partner’s first free slot of the next business day and both get an ICS invite', async () => {
    clock.set('2026-03-02T10:00:00Z'); // Monday; 18:00 in Singapore
    const employee = employeeOf('hrp-singapore');
    const sg = partner('hrp-singapore');
    const resignationId = randomUUID();

    const res = await schedule({ resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-27' });

    expect(res.status).toBe(201);
    expect(hr.Interview.parse(res.body)).toEqual(res.body);
    const interview = res.body;
    expect(interview).toMatchObject({
      resignationId,
      employeeId: employee.id,
      hrPartnerId: sg.id,
      timezone: 'Asia/Singapore',
      status: 'scheduled',
      sequence: 0,
      start: '2026-03-03T02:00:00.000Z', // Tuesday 10:00 in Singapore
      end: '2026-03-03T02:30:00.000Z',
    });
    expect(localTime(interview.start, sg.timezone)).toBe('Tue 10:00');

    // Delivered before the response (fast path): one email each to the employee and the partner.
    const emails = emailsFor(resignationId);
    expect(emails.map((e) => e.request.to.email).sort()).toEqual([employee.email, sg.email].sort());
    for (const { request, idempotencyKey, authorization } of emails) {
      // HR calls Notification with its own service token, issued for Notification's audience.
      const claims = await notificationTrust().verifier.verify(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? 'no bearer token');
      expect(claims).toMatchObject({ client_id: 'ems-service-hr', aud: 'urn:ems:service:notification' });
      expect(request.template).toBe('exit-interview-invite');
      expect(request.purpose).toBe(`interview-invite:${interview.id}:0`);
      expect(idempotencyKey).toBeTruthy();
      expect(request.attachments).toHaveLength(1);
      const [ics] = request.attachments;
      expect(ics!.filename).toBe('invite.ics');
      expect(ics!.contentType).toBe('text/calendar; method=REQUEST');
      expect(icsValues(ics!.content, 'METHOD')).toEqual(['REQUEST']);
      expect(icsValues(ics!.content, 'UID')).toEqual([interview.uid]);
      expect(icsValues(ics!.content, 'SEQUENCE')).toEqual(['0']);
      expect(icsValues(ics!.content, 'DTSTART').map(icsInstant)).toEqual([interview.start]);
      expect(icsValues(ics!.content, 'DTEND').map(icsInstant)).toEqual([interview.end]);
      expect(icsValues(ics!.content, 'ORGANIZER').map((v) => v.toLowerCase())).toEqual([`mailto:${sg.email}`]);
      expect(icsValues(ics!.content, 'ATTENDEE').map((v) => v.toLowerCase()).sort()).toEqual([`mailto:${employee.email}`, `mailto:${sg.email}`].sort());
    }
    // Each recipient sees the time in their own zone.
    expect(inviteData(emails.find((e) => e.request.to.email === employee.email)!.request).timezone).toBe(employee.timezone);
    expect(inviteData(emails.find((e) => e.request.to.email === sg.email)!.request).timezone).toBe(sg.timezone);
    expect(await count(`hr.outbox WHERE interview_id = $1 AND status = 'sent'`, [interview.id])).toBe(2);

    const again = await read(interview);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(interview);
  });

  it('when 10 resignations for employees of the same HR partner arrive at once, then they get 10 different, non-overlapping slots', async () => {
    clock.set('2026-03-09T12:00:00Z'); // Monday, the day after New York moved to EDT
    const ny = partner('hrp-newyork');
    const employees = Array.from({ length: 10 }, () => employeeOf(ny.id));
    const results = await Promise.all(employees.map((e) => schedule({ resignationId: randomUUID(), employeeId: e.id, lastWorkingDay: '2026-03-31' })));

    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    const starts = results.map((r) => r.body.start).sort();
    // Tuesday has no meetings for New York: the ten first slots from 08:30 EDT (12:30Z), one after the other.
    expect(starts).toEqual(Array.from({ length: 10 }, (_, i) => new Date(Date.parse('2026-03-10T12:30:00Z') + i * 30 * 60_000).toISOString()));
    const sorted = [...results.map((r) => r.body)].sort((a, b) => a.start.localeCompare(b.start));
    for (let i = 1; i < sorted.length; i++) expect(Date.parse(sorted[i]!.start)).toBeGreaterThanOrEqual(Date.parse(sorted[i - 1]!.end));
    for (const i of sorted) expect(localTime(i.start, ny.timezone) >= 'Tue 08:30' && localTime(i.end, ny.timezone) <= 'Tue 16:30').toBe(true);
    expect(stub.received.filter((r) => results.some((x) => x.body.resignationId === r.request.resignationId))).toHaveLength(20);
  });

  it('when the partner’s calendar is full until the last working day, then 409 no-free-slot and no interview is created', async () => {
    clock.set('2026-03-19T15:00:00Z'); // Thursday; New York's Friday has 08:30–12:00 free (benefits clinic after)
    const ny = partner('hrp-newyork');
    const fills = [];
    for (let i = 0; i < 7; i++) {
      const r = await schedule({ resignationId: randomUUID(), employeeId: employeeOf(ny.id).id, lastWorkingDay: '2026-03-23' });
      expect(r.status).toBe(201);
      fills.push(localTime(r.body.start, ny.timezone));
    }
    expect(fills).toEqual(['Fri 08:30', 'Fri 09:00', 'Fri 09:30', 'Fri 10:00', 'Fri 10:30', 'Fri 11:00', 'Fri 11:30']);

    const resignationId = randomUUID();
    const before = stub.received.length;
    const full = await schedule<Problem & { reason: string }>({ resignationId, employeeId: employeeOf(ny.id).id, lastWorkingDay: '2026-03-23' });
    expect(full.status).toBe(409);
    expect(full.contentType).toContain('application/problem+json');
    expect(full.body.type).toBe(hr.HrProblemTypes.noFreeSlot);
    expect(full.body.detail).toContain('No free slot before the last working day');
    expect(full.body.reason).toBe('calendar-full');
    expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(0);
    expect(stub.received.length).toBe(before);
  });

  it('when the last working day is the next business day, then there is no slot before it (409) and nothing is stored', async () => {
    clock.set('2026-03-02T10:00:00Z'); // Monday evening in Singapore: next business day is Tuesday 3 March
    const resignationId = randomUUID();
    const res = await schedule<Problem & { reason: string }>({ resignationId, employeeId: employeeOf('hrp-singapore').id, lastWorkingDay: '2026-03-03' });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe(hr.HrProblemTypes.noFreeSlot);
    expect(res.body.reason).toBe('last-working-day-too-close');
    expect((await list(`resignationId=${resignationId}`)).body.items).toEqual([]);
    expect(emailsFor(resignationId)).toEqual([]);
  });

  it('when the employee works in Los Angeles and the partner in New York, then the slot lies in both people’s hours: the Los Angeles morning', async () => {
    clock.set('2026-03-02T15:00:00Z'); // Monday
    const ny = partner('hrp-newyork');
    const employee = h.employeeOf(ny.id, (x) => x.timezone === 'America/Los_Angeles');
    expect(employee.workingHours).toMatchObject({ start: '08:00', end: '16:30' });

    const res = await schedule({ resignationId: randomUUID(), employeeId: employee.id, lastWorkingDay: '2026-03-27' });

    expect(res.status).toBe(201);
    // Tuesday 08:30 in New York would be 05:30 in Los Angeles: the first slot both work is 08:00 there, 11:00 in New York.
    expect(localTime(res.body.start, employee.timezone)).toBe('Tue 08:00');
    expect(localTime(res.body.start, ny.timezone)).toBe('Tue 11:00');
    const invite = emailsFor(res.body.resignationId).find((e) => e.request.to.email === employee.email)!;
    expect(inviteData(invite.request).timezone).toBe('America/Los_Angeles');
  });

  it('when the employee in Los Angeles shares no working hours with a Singapore partner, then 409 no-free-slot says so, naming both calendars, and nothing is stored or sent', async () => {
    clock.set('2026-03-02T10:00:00Z');
    const employee = employeeOf('hrp-newyork');
    // HR's directory moves the employee to Los Angeles under the Singapore partner: Singapore's 10:00–18:00 is 18:00–02:00 there.
    await h.pool.query(`UPDATE hr.employees SET timezone = 'America/Los_Angeles', work_start = '09:00', work_end = '17:00', hr_partner_id = 'hrp-singapore' WHERE id = $1`, [employee.id]);
    const resignationId = randomUUID();

    const res = await schedule<Problem & { reason: string }>({ resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-27' });

    expect(res.status).toBe(409);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.type).toBe(hr.HrProblemTypes.noFreeSlot);
    expect(res.body.reason).toBe('no-shared-hours');
    expect(res.body.detail).toBe(
      `No free slot before the last working day: ${employee.name} (Mon–Fri 09:00–17:00 America/Los_Angeles) and the HR partner Mei Lin Tan (Mon–Fri 10:00–18:00 Asia/Singapore) share no working hours until 2026-03-27`,
    );
    expect((await list(`resignationId=${resignationId}`)).body.items).toEqual([]);
    expect(emailsFor(resignationId)).toEqual([]);
  });
});

describe('idempotency', () => {
  it('when the same resignation is scheduled twice at once, then one interview is booked and invited once; repeats answer 200 with it', async () => {
    clock.set('2026-03-16T10:00:00Z');
    const employee = employeeOf('hrp-berlin');
    const body = { resignationId: randomUUID(), employeeId: employee.id, lastWorkingDay: '2026-04-03' };

    const [a, b] = await Promise.all([schedule(body), schedule(body)]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body).toEqual(b.body);
    expect(await count('hr.interviews WHERE resignation_id = $1', [body.resignationId])).toBe(1);

    const again = await schedule(body, { 'idempotency-key': randomUUID() });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(a.body);
    expect(emailsFor(body.resignationId)).toHaveLength(2);
  });

  it('when a resignation that already has an interview comes with another employee, then 409', async () => {
    clock.set('2026-03-16T10:00:00Z');
    const body = { resignationId: randomUUID(), employeeId: employeeOf('hrp-berlin').id, lastWorkingDay: '2026-04-03' };
    expect((await schedule(body)).status).toBe(201);
    const otherEmployee = employeeOf('hrp-berlin').id;
    const other = await schedule<Problem>({ ...body, employeeId: otherEmployee });
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('https://ems.dev/problems/case-mismatch'); // EMS says the case is the first employee's
    expect(await count('hr.interviews WHERE resignation_id = $1', [body.resignationId])).toBe(1);

    // HR's own record refuses it too, should EMS ever answer otherwise: one interview per resignation, for one employee.
    h.cases.add(body.resignationId, otherEmployee);
    const despite = await schedule<Problem>({ ...body, employeeId: otherEmployee });
    expect(despite.status).toBe(409);
    expect(despite.body.detail).toContain(`already has an interview for employee ${body.employeeId}`);
    expect(await count('hr.interviews WHERE resignation_id = $1', [body.resignationId])).toBe(1);
    h.cases.add(body.resignationId, body.employeeId);
  });

  it('when an Idempotency-Key is repeated, then the original interview comes back; reused for another resignation, then 422 and nothing is stored', async () => {
    clock.set('2026-03-16T10:00:00Z');
    const key = randomUUID();
    const body = { resignationId: randomUUID(), employeeId: employeeOf('hrp-berlin').id, lastWorkingDay: '2026-04-03' };
    const first = await schedule(body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const repeat = await schedule(body, { 'idempotency-key': key });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);

    const otherResignation = randomUUID();
    const misuse = await schedule<Problem>({ ...body, resignationId: otherResignation }, { 'idempotency-key': key });
    expect(misuse.status).toBe(422);
    expect(misuse.body.type).toBe(hr.HrProblemTypes.idempotencyKeyReused);
    expect(await count('hr.interviews WHERE resignation_id = $1', [otherResignation])).toBe(0);
    expect(emailsFor(body.resignationId)).toHaveLength(2);
  });
});

describe('bad requests', () => {
  it('when the employee is unknown, then 404 problem+json and nothing is stored', async () => {
    const resignationId = randomUUID();
    const res = await schedule<Problem>({ resignationId, employeeId: 'E9999', lastWorkingDay: '2026-04-30' });
    expect(res.status).toBe(404);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.detail).toContain('E9999');
    expect(await count('hr.interviews WHERE resignation_id = $1', [resignationId])).toBe(0);
  });

  it.each([
    ['a resignation id that is not a UUID', { resignationId: 'nope', employeeId: 'E1001', lastWorkingDay: '2026-04-30' }],
    ['a date that does not exist', { resignationId: randomUUID(), employeeId: 'E1001', lastWorkingDay: '2026-02-30' }],
    ['a date in another format', { resignationId: randomUUID(), employeeId: 'E1001', lastWorkingDay: '30.04.2026' }],
    ['no employee', { resignationId: randomUUID(), lastWorkingDay: '2026-04-30' }],
    ['a malformed employee id', { resignationId: randomUUID(), employeeId: 'E 1001', lastWorkingDay: '2026-04-30' }],
    ['a last working day in the past', { resignationId: randomUUID(), employeeId: 'E1001', lastWorkingDay: '2026-03-01' }],
    ['malformed JSON', '{"resignationId":'],
  ])('when the request has %s, then 400 problem+json and nothing is stored or sent', async (_what, body) => {
    clock.set('2026-03-02T10:00:00Z');
    const interviews = await count('hr.interviews');
    const outbox = await count('hr.outbox');
    const sent = stub.received.length;
    const res = await schedule<Problem>(body);
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.status).toBe(400);
    expect(await count('hr.interviews')).toBe(interviews);
    expect(await count('hr.outbox')).toBe(outbox);
    expect(stub.received.length).toBe(sent);
  });
});

describe('rescheduling', () => {
  it('when no start is given, then the interview moves to the next free slot with SEQUENCE + 1 and new invites for the same UID', async () => {
    clock.set('2026-03-23T10:00:00Z'); // Monday
    const employee = employeeOf('hrp-berlin');
    const first = (await schedule({ resignationId: randomUUID(), employeeId: employee.id, lastWorkingDay: '2026-04-10' })).body;
    expect(first.start).toBe('2026-03-24T08:30:00.000Z'); // Tue 09:30 CET, after the stand-up

    const moved = await reschedule(first, {});
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: first.id, uid: first.uid, status: 'scheduled', sequence: 1, start: '2026-03-24T09:00:00.000Z', end: '2026-03-24T09:30:00.000Z' });

    const invites = emailsFor(first.resignationId).filter((e) => e.request.purpose === `interview-invite:${first.id}:1`);
    expect(invites.map((e) => e.request.to.email).sort()).toEqual([employee.email, partner('hrp-berlin').email].sort());
    for (const { request } of invites) {
      const ics = request.attachments[0]!.content;
      expect(icsValues(ics, 'METHOD')).toEqual(['REQUEST']);
      expect(icsValues(ics, 'UID')).toEqual([first.uid]);
      expect(icsValues(ics, 'SEQUENCE')).toEqual(['1']);
      expect(icsValues(ics, 'DTSTART').map(icsInstant)).toEqual(['2026-03-24T09:00:00.000Z']);
    }
  });

  it('when a start is given, then it must be a free slot in working hours (409 otherwise); the same start again changes nothing', async () => {
    clock.set('2026-03-23T10:00:00Z');
    const berlin = partner('hrp-berlin');
    const a = (await schedule({ resignationId: randomUUID(), employeeId: employeeOf(berlin.id).id, lastWorkingDay: '2026-04-10' })).body;

    // After Berlin's switch to summer time: 10:00 local is 08:00Z.
    const moved = await reschedule(a, { start: '2026-03-30T10:00:00+02:00' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ start: '2026-03-30T08:00:00.000Z', end: '2026-03-30T08:30:00.000Z', sequence: a.sequence + 1 });
    const emailsAfterMove = emailsFor(a.resignationId).length;

    const same = await reschedule(a, { start: '2026-03-30T08:00:00Z' });
    expect(same.status).toBe(200);
    expect(same.body).toEqual(moved.body);
    expect(emailsFor(a.resignationId)).toHaveLength(emailsAfterMove);

    const b = (await schedule({ resignationId: randomUUID(), employeeId: employeeOf(berlin.id).id, lastWorkingDay: '2026-04-10' })).body;
    for (const [start, why] of [
      ['2026-03-30T08:00:00+02:00', 'before working hours'],
      ['2026-03-30T10:15:00+02:00', 'not on :00/:30'],
      ['2026-03-28T10:00:00+01:00', 'Saturday'],
      ['2026-03-30T09:00:00+02:00', 'stand-up'],
      ['2026-04-01T14:00:00+02:00', 'recruiting day'],
      [b.start, 'another interview'],
      ['2026-04-10T10:00:00+02:00', 'on the last working day'],
      ['2026-03-20T10:00:00+01:00', 'in the past'],
    ] as const) {
      const refused = await reschedule<Problem>(a, { start });
      expect(refused.status, why).toBe(409);
      expect(refused.body.type, why).toBe(hr.HrProblemTypes.slotUnavailable);
    }
    expect((await read(a)).body).toEqual(moved.body);
    expect(emailsFor(a.resignationId)).toHaveLength(emailsAfterMove);
  });

  it('when a reschedule is repeated with its Idempotency-Key, then it moves only once; the key reused differently is 422', async () => {
    clock.set('2026-03-23T10:00:00Z');
    const a = (await schedule({ resignationId: randomUUID(), employeeId: employeeOf('hrp-berlin').id, lastWorkingDay: '2026-04-10' })).body;
    const key = randomUUID();
    const once = await reschedule(a, {}, { 'idempotency-key': key });
    const twice = await reschedule(a, {}, { 'idempotency-key': key });
    expect(once.status).toBe(200);
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual(once.body);
    expect(once.body.sequence).toBe(1);
    expect(emailsFor(a.resignationId)).toHaveLength(4); // the first invites and one update, each to two people
    const misuse = await reschedule<Problem>(a, { start: '2026-04-02T10:00:00+02:00' }, { 'idempotency-key': key });
    expect(misuse.status).toBe(422);
  });

  it('when the start is malformed, then 400; when the interview is unknown, then 404', async () => {
    // The HR lead, who may move, cancel and read every interview: 404 means unknown, not hidden.
    const lead = await h.as(HR_LEAD);
    const a = (await list('limit=1')).body.items[0]!;
    expect((await call(h.base, 'POST', hr.HrPaths.reschedule(a.id), { start: 'tomorrow at ten' }, lead)).status).toBe(400);
    expect((await call(h.base, 'POST', hr.HrPaths.reschedule(a.id), { start: '2026-03-30T10:00:00' }, lead)).status).toBe(400); // no offset
    expect((await call(h.base, 'POST', hr.HrPaths.reschedule(randomUUID()), {}, lead)).status).toBe(404);
    expect((await call(h.base, 'POST', hr.HrPaths.cancel(randomUUID()), undefined, lead)).status).toBe(404);
    expect((await call(h.base, 'GET', hr.HrPaths.interview(randomUUID()), undefined, lead)).status).toBe(404);
    expect((await call(h.base, 'GET', hr.HrPaths.interview('not-a-uuid'), undefined, lead)).status).toBe(400);
  });
});

describe('cancelling', () => {
  it('when an interview is cancelled, then everyone gets a METHOD:CANCEL for the same UID; twice changes nothing; it cannot be rescheduled; its slot is free again', async () => {
    clock.set('2026-04-13T10:00:00Z'); // Monday
    const berlin = partner('hrp-berlin');
    const employee = employeeOf(berlin.id);
    const request = { resignationId: randomUUID(), employeeId: employee.id, lastWorkingDay: '2026-05-01' };
    const booked = (await schedule(request)).body;

    const cancelled = await cancel(booked);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: booked.id, uid: booked.uid, status: 'cancelled', sequence: 1, start: booked.start });
    const cancellations = emailsFor(booked.resignationId).filter((e) => e.request.template === 'exit-interview-cancelled');
    expect(cancellations.map((e) => e.request.to.email).sort()).toEqual([employee.email, berlin.email].sort());
    for (const { request: r } of cancellations) {
      expect(r.purpose).toBe(`interview-cancelled:${booked.id}:1`);
      expect(r.attachments[0]!.contentType).toBe('text/calendar; method=CANCEL');
      const ics = r.attachments[0]!.content;
      expect(icsValues(ics, 'METHOD')).toEqual(['CANCEL']);
      expect(icsValues(ics, 'UID')).toEqual([booked.uid]);
      expect(icsValues(ics, 'SEQUENCE')).toEqual(['1']);
      expect(icsValues(ics, 'STATUS')).toEqual(['CANCELLED']);
    }

    const again = await cancel(booked, { 'idempotency-key': randomUUID() });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(cancelled.body);
    expect(emailsFor(booked.resignationId)).toHaveLength(4);

    const moved = await reschedule<Problem>(booked, {});
    expect(moved.status).toBe(409);
    expect(moved.body.type).toBe(hr.HrProblemTypes.illegalTransition);
    expect(moved.body).toMatchObject({ status: 409, interviewStatus: 'cancelled' });

    // The resignation's interview stays the cancelled one (one per resignation); the slot goes to the next person.
    const repeat = await schedule(request);
    expect(repeat.status).toBe(200);
    expect(repeat.body.status).toBe('cancelled');
    const next = await schedule({ resignationId: randomUUID(), employeeId: employeeOf(berlin.id).id, lastWorkingDay: '2026-05-01' });
    expect(next.status).toBe(201);
    expect(next.body.start).toBe(booked.start);
  });

  it('when an interview has been held, then it can be neither cancelled nor rescheduled (409)', async () => {
    clock.set('2026-04-13T10:00:00Z');
    const booked = (await schedule({ resignationId: randomUUID(), employeeId: employeeOf('hrp-berlin').id, lastWorkingDay: '2026-05-01' })).body;
    clock.set(booked.start); // it has taken place
    expect((await held(booked, {})).status).toBe(200);
    const c = await cancel<Problem>(booked);
    expect(c.status).toBe(409);
    expect(c.body.type).toBe(hr.HrProblemTypes.illegalTransition);
    expect((await reschedule(booked, {})).status).toBe(409);
  });
});

describe('reading interviews and the database guard', () => {
  it('when listing with filters and pages, then the right interviews come back in order', async () => {
    const all: Interview[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      // New York's HR partner reads the interviews of the employees assigned to them.
      const page: { status: number; body: { items: Interview[]; nextOffset: number | null } } = await list(`hrPartnerId=hrp-newyork&limit=4&offset=${offset}`, 'hrp-newyork');
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      offset = page.body.nextOffset;
    }
    expect(all).toHaveLength(18); // 10 concurrent + 7 that filled a Friday + 1 for Los Angeles
    expect(all.every((i) => i.hrPartnerId === 'hrp-newyork')).toBe(true);
    expect(new Set(all.map((i) => i.id)).size).toBe(18);
    const one = all[3]!;
    const byResignation = await list(`resignationId=${one.resignationId}`, 'hrp-newyork');
    expect(byResignation.body.items).toEqual([one]);
    expect((await list('resignationId=nope', 'hrp-newyork')).status).toBe(400);
  });

  it('when two overlapping interviews for one partner are written directly, then PostgreSQL refuses the second (exclusion constraint) unless it is cancelled', async () => {
    const insert = (id: string, status: string) =>
      h.pool.query(
        `INSERT INTO hr.interviews (id, resignation_id, employee_id, hr_partner_id, starts_at, ends_at, timezone, last_working_day, status, uid, created_at, updated_at)
         VALUES ($1::uuid, $2, 'E1000', 'hrp-singapore', '2027-01-05T02:00Z', '2027-01-05T02:30Z', 'Asia/Singapore', '2027-02-01', $3, $1::text || '@test', now(), now())`,
        [id, randomUUID(), status],
      );
    await insert(randomUUID(), 'scheduled');
    await expect(insert(randomUUID(), 'scheduled')).rejects.toMatchObject({ code: '23P01' });
    await expect(insert(randomUUID(), 'cancelled')).resolves.toBeDefined();
  });
});
