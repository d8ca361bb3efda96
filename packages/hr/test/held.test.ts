import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventSources, EventTypes, ExitInterviewHeld } from '@ems/contracts/events';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { call, manualClock, startHr, startNotificationStub, type Headers, type HrUnderTest, type NotificationStub } from './harness.ts';

type Interview = hr.Interview;
type Problem = { type: string; status: number; detail?: string };

// HR with a bus but not reacting to events (orchestration): marking an interview held is an HTTP
// call in both modes, and its event is published whenever a bus is configured.
const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;

beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({ label: 'hrheld', clock, notificationUrl: stub.url, bus: async (pool) => (bus = await createRecordingBus(pool)) });
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});
beforeEach(() => {
  clock.set('2026-03-02T10:00:00Z');
  bus.stopFailing();
});

/** Booked as the orchestrator books it (EMS's service token), for a case EMS knows. */
async function book(): Promise<Interview> {
  const e = h.employeeOf('hrp-berlin');
  const resignationId = h.cases.add(randomUUID(), e.id);
  const res = await call<Interview>(h.base, 'POST', hr.HrPaths.interviews, { resignationId, employeeId: e.id, lastWorkingDay: '2026-04-30' }, await h.asEms());
  expect(res.status).toBe(201);
  return res.body;
}
// Every employee here is Berlin's: their HR partner holds, cancels, moves and reads their interviews.
const asPartner = () => h.as('hrp-berlin');
const held = async (id: string, body?: unknown, headers: Headers = {}) => call<Interview>(h.base, 'POST', hr.HrPaths.held(id), body, { ...(await asPartner()), ...headers });
const cancel = async (id: string, headers: Headers = {}) => call<Interview>(h.base, 'POST', hr.HrPaths.cancel(id), undefined, { ...(await asPartner()), ...headers });
const read = async (id: string) => call<Interview>(h.base, 'GET', hr.HrPaths.interview(id), undefined, await asPartner());
const heldEvents = async (resignationId: string) => (await bus.published(EventTypes.exitInterviewHeld)).filter((e) => e.subject === resignationId);

describe('marking the exit interview held', () => {
  it('when the HR partner marks it held with notes, then it is held at the clock’s now with the notes, reads back so, and exit-interview-held is published without the notes', async () => {
    const booked = await book();
    clock.set('2026-03-03T09:05:00Z');
    const trace = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;

    const res = await held(booked.id, { notes: '  Wants to stay if she can work remotely.  ' }, { 'x-correlation-id': 'corr-held-1', traceparent: trace });

    expect(res.status).toBe(200);
    expect(hr.Interview.parse(res.body)).toEqual(res.body);
    expect(res.body).toEqual({ ...booked, status: 'held', heldAt: '2026-03-03T09:05:00.000Z', notes: 'Wants to stay if she can work remotely.' });
    expect((await read(booked.id)).body).toEqual(res.body);

    const events = await heldEvents(booked.resignationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: EventSources.hr, subject: booked.resignationId, correlationid: 'corr-held-1', time: '2026-03-03T09:05:00.000Z' });
    expect(events[0]!.traceparent.split('-')[1]).toBe('c'.repeat(32));
    expect(ExitInterviewHeld.parse(events[0]!.data)).toEqual({ resignationId: booked.resignationId, interviewId: booked.id, heldAt: '2026-03-03T09:05:00.000Z', hasNotes: true });
    expect(JSON.stringify(events[0])).not.toContain('remotely');
  });

  it('when it is marked held before it starts, then 409 not-started and it stays scheduled, nothing published', async () => {
    const booked = await book();
    clock.set(new Date(Date.parse(booked.start) - 60_000).toISOString());
    const early = await held(booked.id, { notes: 'Wrote this in advance.' });
    expect(early.status).toBe(409);
    expect((early.body as unknown as Problem).type).toBe(hr.HrProblemTypes.notStarted);
    expect((await read(booked.id)).body).toMatchObject({ status: 'scheduled', heldAt: null, notes: null });
    expect(await heldEvents(booked.resignationId)).toEqual([]);
    clock.set(booked.start);
    expect((await held(booked.id, { notes: 'Held on time.' })).body).toMatchObject({ status: 'held', notes: 'Held on time.' });
  });

  it('when notes were recorded, then they are never overwritten (409) — notes written up afterwards, once, are fine', async () => {
    const booked = await book();
    clock.set(booked.start);
    expect((await held(booked.id, { notes: 'What was said.' })).status).toBe(200);
    const rewrite = await held(booked.id, { notes: 'What I now wish was said.' });
    expect(rewrite.status).toBe(409);
    expect((rewrite.body as unknown as Problem).type).toBe(hr.HrProblemTypes.notesRecorded);
    expect((await read(booked.id)).body.notes).toBe('What was said.');
    // Repeating the same notes is a repeat: 200, nothing changes.
    expect((await held(booked.id, { notes: 'What was said.' })).status).toBe(200);
  });

  it('when it is marked held again, then 200 and nothing changes but the notes, and only when given; the event is not published again', async () => {
    const booked = await book();
    clock.set(booked.start);
    const first = await held(booked.id); // no body at all: no notes
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'held', heldAt: booked.start, notes: null });

    clock.set(new Date(Date.parse(booked.start) + 2 * 3600_000).toISOString());
    const again = await held(booked.id, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const withNotes = await held(booked.id, { notes: 'Notes written up afterwards.' });
    expect(withNotes.body).toEqual({ ...first.body, notes: 'Notes written up afterwards.' });
    const without = await held(booked.id, {});
    expect(without.body.notes).toBe('Notes written up afterwards.');

    const events = await heldEvents(booked.resignationId);
    expect(events).toHaveLength(1);
    expect(ExitInterviewHeld.parse(events[0]!.data)).toMatchObject({ heldAt: booked.start, hasNotes: false });
  });

  it('when two requests mark it held at the same moment, then it is held once and announced once', async () => {
    const booked = await book();
    clock.set(booked.start); // the conversation has begun
    const results = await Promise.all([held(booked.id, { notes: 'a' }), held(booked.id, {}), held(booked.id, {})]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(results.map((r) => r.body.heldAt)).size).toBe(1);
    expect(await heldEvents(booked.resignationId)).toHaveLength(1);
  });

  it('when the interview was cancelled, then 409 illegal-transition and it stays cancelled', async () => {
    const booked = await book();
    expect((await cancel(booked.id)).status).toBe(200);

    const res = await held(booked.id, { notes: 'too late' });

    expect(res.status).toBe(409);
    expect(res.contentType).toContain('application/problem+json');
    expect((res.body as unknown as Problem).type).toBe(hr.HrProblemTypes.illegalTransition);
    expect((await read(booked.id)).body).toMatchObject({ status: 'cancelled', heldAt: null, notes: null });
    expect(await heldEvents(booked.resignationId)).toEqual([]);
  });

  it('when the interview is held, then it can be neither cancelled nor rescheduled (409), and no cancellation is sent', async () => {
    const booked = await book();
    clock.set(booked.start);
    expect((await held(booked.id, {})).status).toBe(200);
    const before = stub.received.length;

    const cancelled = await call<Problem>(h.base, 'POST', hr.HrPaths.cancel(booked.id), undefined, await asPartner());
    const move = await call<Problem>(h.base, 'POST', hr.HrPaths.reschedule(booked.id), {}, await asPartner());

    expect([cancelled.status, move.status]).toEqual([409, 409]);
    expect([cancelled.body.type, move.body.type]).toEqual([hr.HrProblemTypes.illegalTransition, hr.HrProblemTypes.illegalTransition]);
    expect(stub.received.length).toBe(before);
    expect((await bus.published(EventTypes.exitInterviewCancelled)).filter((e) => e.subject === booked.resignationId)).toEqual([]);
  });

  it('when the interview is unknown, then 404; a malformed id or an unknown field is 400', async () => {
    const missing = await held(randomUUID(), {});
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain('application/problem+json');
    expect((await held('not-a-uuid', {})).status).toBe(400);
    const booked = await book();
    expect((await held(booked.id, { notes: 'x', decision: 'retained' })).status).toBe(400);
    expect((await held(booked.id, { notes: 'x'.repeat(10_001) })).status).toBe(400);
    expect((await read(booked.id)).body.status).toBe('scheduled');
  });

  it('when publishing the event fails, then the request fails and the interview is still scheduled', async () => {
    const booked = await book();
    clock.set(booked.start);
    bus.failPublish({ type: EventTypes.exitInterviewHeld });

    expect((await held(booked.id, { notes: 'n' })).status).toBe(500);

    expect((await read(booked.id)).body).toMatchObject({ status: 'scheduled', heldAt: null, notes: null });
    expect(await heldEvents(booked.resignationId)).toEqual([]);
    expect((await held(booked.id, { notes: 'n' })).body.status).toBe('held');
    expect(await heldEvents(booked.resignationId)).toHaveLength(1);
  });
});

describe('cancelling over HTTP with a bus', () => {
  it('when an interview is cancelled, then exit-interview-cancelled is published once with the reason, on the caller’s case; cancelling again publishes nothing', async () => {
    const booked = await book();

    const first = await cancel(booked.id, { 'x-correlation-id': 'corr-cancel-1' });
    const again = await cancel(booked.id);

    expect([first.status, again.status]).toEqual([200, 200]);
    const events = (await bus.published(EventTypes.exitInterviewCancelled)).filter((e) => e.subject === booked.resignationId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: EventSources.hr, correlationid: 'corr-cancel-1', data: { resignationId: booked.resignationId, interviewId: booked.id, reason: 'cancelled by HR' } });
    expect(events[0]!.data).not.toHaveProperty('skipped');
  });
});
