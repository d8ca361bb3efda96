import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTypes, ExitInterviewCancelled, ExitInterviewScheduled, ExitInterviewSchedulingFailed, type CloudEvent } from '@ems/contracts/events';
import type { EventBus } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import type { Employee } from '@ems/demo-org';
import { SCHEDULE_INTERVIEW_SUBSCRIBER } from '../src/index.ts';
import { decisionEvent, manualClock, startHr, startNotificationStub, waitFor, type HrUnderTest, type NotificationStub } from './harness.ts';

// End to end through the real PostgreSQL event bus (pg-boss): events are published in a transaction,
// delivered to HR's subscriber by the bus's workers, and HR's outcome events reach another subscriber.
const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: EventBus;
// Whoever listens to HR's outcomes (EMS's case tracking, in the real system).
const outcomes = createEventProbe('test.hr-outcomes', [EventTypes.exitInterviewScheduled, EventTypes.exitInterviewSchedulingFailed, EventTypes.exitInterviewCancelled]);

beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({
    label: 'hrchoreobus',
    clock,
    notificationUrl: stub.url,
    reactToEvents: true,
    bus: async (pool) => (bus = createTestPostgresBus(pool, { defaultRetry: { maxAttempts: 2, backoffMs: 100 } })),
  });
  for (const s of h.service.subscriptions ?? []) await bus.subscribe(s);
  await bus.subscribe(outcomes.subscription);
  await bus.start();
});
afterAll(async () => {
  await bus?.stop();
  await h?.stop();
  await stub?.stop();
});

function resignationSubmitted(employee: Pick<Employee, 'id' | 'name' | 'email' | 'timezone' | 'hrPartnerId'>, lastWorkingDay: string) {
  const resignationId = randomUUID();
  return resignationSubmittedEvent({ resignationId, correlationId: `corr-${resignationId}`, employee, hrPartnerId: employee.hrPartnerId, lastWorkingDay, submittedAt: clock.now() });
}

const publish = (events: CloudEvent[]) => publishInTransaction(h.pool, bus, events);
const count = async (sql: string, params: unknown[] = []) => (await h.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n;
/**
 * Barrier: every job on the bus has run to its end (deliveries, retries, dead letters) and every invite
 * HR queued has been handed to Notification: all a duplicate would do, publish or send has happened.
 */
const settled = () =>
  waitFor(async () => ((await count(`bus.job WHERE state < 'completed'`)) === 0 && (await count(`hr.outbox WHERE status = 'pending'`)) === 0 ? true : undefined), 'the bus and the invite outbox to be idle');

describe('HR through the real PostgreSQL event bus', () => {
  it('when resignation-submitted is published (and published again), then HR books once, the invites go out once, and exit-interview-scheduled reaches its subscribers once', async () => {
    const employee = h.employeeOf('hrp-berlin');
    const event = resignationSubmitted(employee, '2026-03-31');

    await publish([event]);
    await publish([event]); // at-least-once: the same event on the wire twice

    const [scheduled] = await outcomes.waitFor(event.data.resignationId, 'exit-interview-scheduled');
    await waitFor(async () => ((await count(`hr.processed_events WHERE subscriber = $1 AND event_id = $2`, [SCHEDULE_INTERVIEW_SUBSCRIBER, event.id])) === 1 ? true : undefined), 'the event recorded as handled');
    await settled(); // a second (wrong) outcome would have shown up

    expect(outcomes.about(event.data.resignationId).map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled]);
    expect(scheduled!.correlationid).toBe(event.correlationid);
    const data = ExitInterviewScheduled.parse(scheduled!.data);
    expect(data).toMatchObject({ resignationId: event.data.resignationId, employeeId: employee.id, hrPartnerId: 'hrp-berlin' });
    expect(await count('hr.interviews WHERE resignation_id = $1', [event.data.resignationId])).toBe(1);
    expect(stub.received.filter((r) => r.request.resignationId === event.data.resignationId)).toHaveLength(2);
  });

  it('when HR cannot book (unknown employee), then exit-interview-scheduling-failed reaches its subscribers, without retries or a dead letter', async () => {
    const event = resignationSubmitted({ id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'Europe/Berlin', hrPartnerId: 'hrp-berlin' }, '2026-03-31');

    await publish([event]);

    const [failed] = await outcomes.waitFor(event.data.resignationId, 'exit-interview-scheduling-failed');
    expect(failed!.type).toBe(EventTypes.exitInterviewSchedulingFailed);
    expect(ExitInterviewSchedulingFailed.parse(failed!.data)).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
    const letters = await bus.deadLetters.list({ subscriber: SCHEDULE_INTERVIEW_SUBSCRIBER });
    expect(letters.items.filter((l) => l.eventId === event.id)).toEqual([]);
  });

  it('when HR keeps failing on an event (a technical error), then after the last attempt it is dead-lettered and exit-interview-scheduling-failed is published; replayed once fixed, it books the interview', async () => {
    const event = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');
    // Break HR's storage for this subscriber: every attempt fails before it can do anything.
    await h.pool.query('ALTER TABLE hr.processed_events RENAME TO processed_events_away');
    try {
      await publish([event]);
      const [failed] = await outcomes.waitFor(event.data.resignationId, 'the failure event', 30_000);
      expect(failed!.type).toBe(EventTypes.exitInterviewSchedulingFailed);
      const data = ExitInterviewSchedulingFailed.parse(failed!.data);
      expect(data).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
      expect(data.reason).toContain('processed_events');
      expect(await count('hr.interviews WHERE resignation_id = $1', [event.data.resignationId])).toBe(0);
    } finally {
      await h.pool.query('ALTER TABLE hr.processed_events_away RENAME TO processed_events');
    }
    const letters = (await bus.deadLetters.list({ subscriber: SCHEDULE_INTERVIEW_SUBSCRIBER })).items.filter((l) => l.eventId === event.id);
    expect(letters).toHaveLength(1);

    await bus.deadLetters.replay(letters[0]!.id);

    await waitFor(() => (outcomes.about(event.data.resignationId).some((e) => e.type === EventTypes.exitInterviewScheduled) ? true : undefined), 'exit-interview-scheduled after the replay');
    expect(await count('hr.interviews WHERE resignation_id = $1', [event.data.resignationId])).toBe(1);
    expect(outcomes.about(event.data.resignationId).map((e) => e.type)).toEqual([EventTypes.exitInterviewSchedulingFailed, EventTypes.exitInterviewScheduled]);
  });

  it('when the resignation is withdrawn after the booking, then HR cancels the interview through the bus once, and exit-interview-cancelled reaches its subscribers', async () => {
    const submitted = resignationSubmitted(h.employeeOf('hrp-berlin'), '2026-03-31');
    await publish([submitted]);
    const [scheduled] = await outcomes.waitFor(submitted.data.resignationId, 'exit-interview-scheduled');
    const { interviewId } = ExitInterviewScheduled.parse(scheduled!.data);

    const withdrawn = decisionEvent(EventTypes.resignationWithdrawn, submitted, clock.now());
    await publish([withdrawn]);
    await publish([withdrawn]);

    const cancelled = await waitFor(() => outcomes.about(submitted.data.resignationId).find((e) => e.type === EventTypes.exitInterviewCancelled), 'exit-interview-cancelled');
    await settled(); // a second (wrong) outcome would have shown up
    expect(ExitInterviewCancelled.parse(cancelled.data)).toEqual({ resignationId: submitted.data.resignationId, interviewId, reason: 'withdrawn' });
    expect(cancelled.correlationid).toBe(submitted.correlationid);
    expect(outcomes.about(submitted.data.resignationId).map((e) => e.type)).toEqual([EventTypes.exitInterviewScheduled, EventTypes.exitInterviewCancelled]);
    expect((await h.pool.query<{ status: string }>('SELECT status FROM hr.interviews WHERE id = $1', [interviewId])).rows[0]!.status).toBe('cancelled');
    await waitFor(() => (stub.received.filter((r) => r.request.resignationId === submitted.data.resignationId && r.request.template === 'exit-interview-cancelled').length === 2 ? true : undefined), 'both cancellations');
  });
});
