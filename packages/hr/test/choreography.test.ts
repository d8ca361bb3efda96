import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventSources, EventTypes, ExitInterviewScheduled, ExitInterviewSchedulingFailed, type CloudEvent } from '@ems/contracts/events';
import type { Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import type { Employee } from '@ems/demo-org';
import { createLogger } from '@ems/platform';
import { knownCases, waitFor } from '@ems/platform/testing';
import { CANCEL_INTERVIEW_SUBSCRIBER, createHrService, FOLLOW_UP_SUBSCRIBER, SCHEDULE_INTERVIEW_SUBSCRIBER, UPDATE_DIRECTORY_SUBSCRIBER } from '../src/index.ts';
import { call, manualClock, startHr, startNotificationStub, type Headers, type HrUnderTest, type NotificationStub } from './harness.ts';

const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;
let subscription: Subscription;

// HR with a bus and reacting to events. The relay is not started: every invite the stub receives was
// delivered by the handler or the request itself (fast path), so counting them counts deliveries.
beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({
    label: 'hrchoreo',
    clock,
    notificationUrl: stub.url,
    reactToEvents: true,
    bus: async (pool) => (bus = await createRecordingBus(pool)),
  });
  subscription = h.service.subscriptions![0]!;
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});
beforeEach(() => {
  clock.set('2026-03-02T10:00:00Z'); // Monday
  bus.stopFailing();
});

function resignationSubmitted(employee: Pick<Employee, 'id' | 'name' | 'email' | 'timezone' | 'hrPartnerId'>, lastWorkingDay: string, resignationId = randomUUID()) {
  return resignationSubmittedEvent({ resignationId, correlationId: `corr-${resignationId}`, employee, hrPartnerId: employee.hrPartnerId, lastWorkingDay, submittedAt: clock.now() });
}

const deliver = (event: CloudEvent) => subscription.handle(event, { attempt: 1, lastAttempt: false });
/** POST /api/interviews as the orchestrator books over HTTP (EMS's service token), for the case EMS knows. */
const book = async <T = hr.Interview>(body: hr.ScheduleInterviewRequest, headers: Headers = {}) => {
  h.cases.add(body.resignationId, body.employeeId);
  return call<T>(h.base, 'POST', hr.HrPaths.interviews, body, { ...(await h.asEms()), ...headers });
};
const count = async (sql: string, params: unknown[] = []) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
const interviewsOf = (resignationId: string) => count('hr.interviews WHERE resignation_id = $1', [resignationId]);
const invitesTo = (resignationId: string) => stub.received.filter((r) => r.request.resignationId === resignationId);
/**
 * The handler delivers invites in the background: wait until `n` have reached Notification and none of the
 * case's invites is still pending in HR's outbox (marked sent only after Notification took it): a duplicate
 * send would have reached the stub by then.
 */
const invitesDelivered = async (resignationId: string, n: number) => {
  await waitFor(() => (invitesTo(resignationId).length >= n ? true : undefined), `${n} invites for ${resignationId}`, 10_000);
  await waitFor(
    async () => ((await count(`hr.outbox o JOIN hr.interviews i ON i.id = o.interview_id WHERE i.resignation_id = $1 AND o.status = 'pending'`, [resignationId])) === 0 ? true : undefined),
    `no invite of ${resignationId} still pending`,
  );
  return invitesTo(resignationId);
};
const outcomesFor = async (resignationId: string) =>
  (await bus.published()).filter((e) => e.type !== EventTypes.resignationSubmitted && e.subject === resignationId);
const traceId = (traceparent: string) => traceparent.split('-')[1];

describe('the HR service as a participant of the choreography', () => {
  it('when reacting to events, then it offers its subscribers, each named after what it does, on the events it reacts to', () => {
    expect(h.service.subscriptions!.map((s) => [s.name, s.types])).toEqual([
      ['hr.schedule-interview-when-resignation-submitted', [EventTypes.resignationSubmitted]],
      ['hr.cancel-interview-when-resignation-closed', [EventTypes.resignationRetained, EventTypes.resignationWithdrawn]],
      ['hr.follow-up-exit-process', [EventTypes.resignationSubmitted, EventTypes.resignationRetained, EventTypes.resignationWithdrawn, EventTypes.exitConfirmed]],
      // Not a reaction of the exit process: HR's copy of the directory follows in both modes.
      [UPDATE_DIRECTORY_SUBSCRIBER, [EventTypes.personChanged]],
    ]);
    expect([SCHEDULE_INTERVIEW_SUBSCRIBER, CANCEL_INTERVIEW_SUBSCRIBER, FOLLOW_UP_SUBSCRIBER, UPDATE_DIRECTORY_SUBSCRIBER]).toEqual(h.service.subscriptions!.map((s) => s.name));
    expect(subscription.name).toBe(SCHEDULE_INTERVIEW_SUBSCRIBER);
    for (const s of h.service.subscriptions!.filter((x) => x.name !== UPDATE_DIRECTORY_SUBSCRIBER)) expect(typeof s.onDeadLetter).toBe('function');
  });

  it('when not reacting to events, then it offers only the directory follower (none without a bus); asked to react without a bus, it refuses to start', () => {
    const log = createLogger({ level: 'silent' });
    const base = { pool: h.pool, log, notificationUrl: stub.url, cases: knownCases().lookup };
    expect((createHrService({ ...base, bus }).subscriptions ?? []).map((s) => s.name)).toEqual([UPDATE_DIRECTORY_SUBSCRIBER]);
    expect(createHrService(base).subscriptions ?? []).toEqual([]);
    expect(() => createHrService({ ...base, reactToEvents: true })).toThrow(/needs a bus/);
  });

  it('when the follow-up policy is not a set of durations, then HR refuses to start, naming the setting', () => {
    const base = { pool: h.pool, log: createLogger({ level: 'silent' }), notificationUrl: stub.url, cases: knownCases().lookup, bus, reactToEvents: true };
    const policy = { scheduleWithinMs: 1, heldWithinMs: 1, decideWithinMs: 1, escalateAfterMs: 1 };
    expect(() => createHrService({ ...base, followUps: { policy: { ...policy, escalateAfterMs: -1 } } })).toThrow(/followUps\.policy\.escalateAfterMs/);
    expect(() => createHrService({ ...base, followUps: { policy: { ...policy, decideWithinMs: Number.NaN } } })).toThrow(/followUps\.policy\.decideWithinMs/);
    expect(createHrService({ ...base, followUps: { policy } }).subscriptions).toHaveLength(4);
  });
});

describe('booking the exit interview when a resignation is submitted', () => {
  it('when the event arrives, then the interview is booked, both invites are delivered and exit-interview-scheduled is published on the same case and trace', async () => {
    const employee = h.employeeOf('hrp-singapore');
    const event = resignationSubmitted(employee, '2026-03-27');

    await deliver(event);

    const [scheduled, ...others] = await outcomesFor(event.data.resignationId);
    expect(others).toEqual([]);
    expect(scheduled!.type).toBe(EventTypes.exitInterviewScheduled);
    expect(scheduled).toMatchObject({ source: EventSources.hr, subject: event.data.resignationId, correlationid: event.correlationid });
    expect(traceId(scheduled!.traceparent)).toBe(traceId(event.traceparent));
    expect(scheduled!.traceparent).not.toBe(event.traceparent);
    const data = ExitInterviewScheduled.parse(scheduled!.data);

    // The event tells what the API shows: the same interview, in the partner's first free slot.
    const read = await call<hr.Interview>(h.base, 'GET', hr.HrPaths.interview(data.interviewId), undefined, await h.asPartnerOf(employee.id));
    expect(read.status).toBe(200);
    expect(data).toEqual({
      resignationId: event.data.resignationId,
      interviewId: read.body.id,
      employeeId: employee.id,
      hrPartnerId: 'hrp-singapore',
      start: '2026-03-03T02:00:00.000Z', // Tuesday 10:00 in Singapore, as over HTTP
      end: '2026-03-03T02:30:00.000Z',
      timezone: 'Asia/Singapore',
    });
    expect(read.body).toMatchObject({ start: data.start, end: data.end, status: 'scheduled' });
    expect((await invitesDelivered(event.data.resignationId, 2)).map((r) => r.request.to.email).sort()).toEqual([employee.email, h.org.hrPartners.find((p) => p.id === 'hrp-singapore')!.email].sort());
    await waitFor(async () => ((await count(`hr.outbox WHERE interview_id = $1 AND status = 'sent'`, [data.interviewId])) === 2 ? true : undefined), 'both invites recorded as sent', 10_000);
    expect(await count(`hr.processed_events WHERE subscriber = $1 AND event_id = $2`, [SCHEDULE_INTERVIEW_SUBSCRIBER, event.id])).toBe(1);
  });

  it('when the same event is delivered twice, one after the other, then one interview, one outcome event, and the invites go out once', async () => {
    const event = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');

    await deliver(event);
    await deliver(event);

    expect(await interviewsOf(event.data.resignationId)).toBe(1);
    expect((await outcomesFor(event.data.resignationId)).map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled]);
    expect(await invitesDelivered(event.data.resignationId, 2)).toHaveLength(2);
  });

  it('when the same event is delivered twice at the same moment, then one interview, one outcome event, and the invites go out once', async () => {
    const event = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');

    await Promise.all([deliver(event), deliver(event), deliver(event)]);

    expect(await interviewsOf(event.data.resignationId)).toBe(1);
    expect((await outcomesFor(event.data.resignationId)).map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled]);
    expect(await invitesDelivered(event.data.resignationId, 2)).toHaveLength(2);
    expect(await count(`hr.processed_events WHERE event_id = $1`, [event.id])).toBe(1);
  });

  it('when the interview was already booked over HTTP, then the event books nothing more and announces nothing twice', async () => {
    const employee = h.employeeOf('hrp-newyork');
    const event = resignationSubmitted(employee, '2026-03-31');
    const first = await book({ resignationId: event.data.resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' });
    expect(first.status).toBe(201);

    await deliver(event);

    expect(await interviewsOf(event.data.resignationId)).toBe(1);
    const outcomes = await outcomesFor(event.data.resignationId);
    expect(outcomes.map((e) => ExitInterviewScheduled.parse(e.data).interviewId)).toEqual([first.body.id]);
    expect(await invitesDelivered(event.data.resignationId, 2)).toHaveLength(2);
  });

  it('when the event and an HTTP request for the same resignation race, then one interview and one exit-interview-scheduled', async () => {
    const employee = h.employeeOf('hrp-newyork');
    const event = resignationSubmitted(employee, '2026-03-31');

    const [, res] = await Promise.all([
      deliver(event),
      book({ resignationId: event.data.resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' }),
    ]);

    expect([200, 201]).toContain(res.status);
    expect(await interviewsOf(event.data.resignationId)).toBe(1);
    const outcomes = await outcomesFor(event.data.resignationId);
    expect(outcomes.map((e) => ExitInterviewScheduled.parse(e.data).interviewId)).toEqual([res.body.id]);
    expect(await invitesDelivered(event.data.resignationId, 2)).toHaveLength(2);
  });

  it('when publishing the outcome fails, then the booking rolls back with it (no interview, no invites, no event, not marked handled), and the retry books it once', async () => {
    const event = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');
    bus.failPublish({ times: Infinity });

    await expect(deliver(event)).rejects.toThrow('bus told to fail after recording');

    expect(await interviewsOf(event.data.resignationId)).toBe(0);
    expect(await count(`hr.outbox WHERE request->>'resignationId' = $1`, [event.data.resignationId])).toBe(0);
    expect(await outcomesFor(event.data.resignationId)).toEqual([]);
    expect(await count(`hr.processed_events WHERE event_id = $1`, [event.id])).toBe(0);
    expect(invitesTo(event.data.resignationId)).toEqual([]);

    bus.stopFailing();
    await subscription.handle(event, { attempt: 2, lastAttempt: false });

    expect(await interviewsOf(event.data.resignationId)).toBe(1);
    expect((await outcomesFor(event.data.resignationId)).map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled]);
    expect(await invitesDelivered(event.data.resignationId, 2)).toHaveLength(2);
  });
});

describe('when HR cannot book the interview', () => {
  const unknown = { id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'Europe/Berlin', hrPartnerId: 'hrp-berlin' };
  const cases: Array<{ name: string; event: () => CloudEvent<{ resignationId: string }>; reason: RegExp }> = [
    { name: 'the employee is not in HR’s directory', event: () => resignationSubmitted(unknown, '2026-03-31'), reason: /No employee E9999/ },
    // Monday evening in Singapore: the next business day is the last one, so no slot lies before it.
    { name: 'there is no free slot before the last working day', event: () => resignationSubmitted(h.employeeOf('hrp-singapore'), '2026-03-03'), reason: /No free slot before the last working day/ },
    { name: 'the last working day is already past', event: () => resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-02-27'), reason: /2026-02-27 is in the past/ },
  ];

  for (const c of cases) {
    it(`when ${c.name}, then exit-interview-scheduling-failed is published once (caused by the event), no interview and no invite, and no retry`, async () => {
      const event = c.event();
      const resignationId = event.data.resignationId;

      // Returns normally: a business refusal is an outcome, not an error to retry.
      await deliver(event);
      await deliver(event); // a redelivery changes nothing

      const outcomes = await outcomesFor(resignationId);
      expect(outcomes.map((e) => e.type)).toEqual([EventTypes.exitInterviewSchedulingFailed]);
      expect(outcomes[0]).toMatchObject({ source: EventSources.hr, subject: resignationId, correlationid: event.correlationid });
      const failure = ExitInterviewSchedulingFailed.parse(outcomes[0]!.data);
      expect(failure.resignationId).toBe(resignationId);
      expect(failure.causationId).toBe(event.id);
      expect(failure.reason).toMatch(c.reason);
      expect(await interviewsOf(resignationId)).toBe(0);
      expect(invitesTo(resignationId)).toEqual([]);
      expect(await count(`hr.processed_events WHERE event_id = $1`, [event.id])).toBe(1);
    });
  }

  it('when publishing the failure event fails, then the event is not marked handled, and the retry publishes the failure once', async () => {
    const event = resignationSubmitted(unknown, '2026-03-31');
    bus.failPublish({ times: Infinity });
    await expect(deliver(event)).rejects.toThrow();
    expect(await outcomesFor(event.data.resignationId)).toEqual([]);
    expect(await count(`hr.processed_events WHERE event_id = $1`, [event.id])).toBe(0);

    bus.stopFailing();
    await deliver(event);
    expect((await outcomesFor(event.data.resignationId)).map((e) => e.type)).toEqual([EventTypes.exitInterviewSchedulingFailed]);
  });

  it('when the bus gives up on an event (dead letter), then exit-interview-scheduling-failed is published with the reason', async () => {
    const event = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');

    await subscription.onDeadLetter!(event, 'connection terminated unexpectedly');

    const outcomes = await outcomesFor(event.data.resignationId);
    expect(outcomes.map((e) => e.type)).toEqual([EventTypes.exitInterviewSchedulingFailed]);
    const failure = ExitInterviewSchedulingFailed.parse(outcomes[0]!.data);
    expect(failure).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
    expect(failure.reason).toContain('connection terminated unexpectedly');
    expect(outcomes[0]!.correlationid).toBe(event.correlationid);
  });

  it('when a dead-lettered event names no resignation (it failed validation), then nothing is published and nothing throws', async () => {
    const before = (await bus.published()).length;
    const garbage = { ...resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31'), data: { hello: 'world' } };

    await expect(subscription.onDeadLetter!(garbage, 'invalid payload')).resolves.toBeUndefined();

    expect(await bus.published()).toHaveLength(before);
  });
});

describe('booking over HTTP with a bus', () => {
  it('when POST /api/interviews books a new interview, then exit-interview-scheduled is published with the caller’s correlation id and trace; a repeat publishes nothing', async () => {
    const employee = h.employeeOf('hrp-berlin');
    const resignationId = randomUUID();
    const trace = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const body = { resignationId, employeeId: employee.id, lastWorkingDay: '2026-03-31' };

    const first = await book(body, { 'x-correlation-id': 'corr-http-1', traceparent: trace });
    const repeat = await book(body, { 'x-correlation-id': 'corr-http-1' });

    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    const outcomes = await outcomesFor(resignationId);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ type: EventTypes.exitInterviewScheduled, source: EventSources.hr, subject: resignationId, correlationid: 'corr-http-1' });
    expect(traceId(outcomes[0]!.traceparent)).toBe('a'.repeat(32));
    expect(ExitInterviewScheduled.parse(outcomes[0]!.data)).toEqual({
      resignationId,
      interviewId: first.body.id,
      employeeId: employee.id,
      hrPartnerId: first.body.hrPartnerId,
      start: first.body.start,
      end: first.body.end,
      timezone: first.body.timezone,
    });
  });

  it('when no correlation id is sent, then the event is correlated by the resignation id', async () => {
    const resignationId = randomUUID();
    const res = await book({ resignationId, employeeId: h.employeeOf('hrp-berlin').id, lastWorkingDay: '2026-03-31' }, { traceparent: 'not-a-trace' });
    expect(res.status).toBe(201);
    const [event] = await outcomesFor(resignationId);
    expect(event!.correlationid).toBe(resignationId);
  });

  it('when publishing fails, then the request fails and no interview, invite or event remains', async () => {
    const resignationId = randomUUID();
    bus.failPublish({ times: Infinity });

    const res = await book({ resignationId, employeeId: h.employeeOf('hrp-berlin').id, lastWorkingDay: '2026-03-31' });

    expect(res.status).toBe(500);
    expect(await interviewsOf(resignationId)).toBe(0);
    expect(await outcomesFor(resignationId)).toEqual([]);
    expect(invitesTo(resignationId)).toEqual([]);
  });
});
