import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hr } from '@ems/contracts';
import { EventSources, EventTypes, ExitInterviewCancellationFailed, ExitInterviewCancelled, type CloudEvent } from '@ems/contracts/events';
import type { Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import { CANCEL_INTERVIEW_SUBSCRIBER, SCHEDULE_INTERVIEW_SUBSCRIBER } from '../src/index.ts';
import { call, decisionEvent, icsValues, manualClock, startHr, startNotificationStub, type HrUnderTest, type NotificationStub } from './harness.ts';

const clock = manualClock('2026-03-02T10:00:00Z');
let h: HrUnderTest;
let stub: NotificationStub;
let bus: RecordingBus;
let cancelSub: Subscription;
let scheduleSub: Subscription;

// HR reacting to events, with a recording bus: the tests deliver events to the subscribers themselves.
// The relay is not started, so every email the stub receives was delivered by the handler (fast path).
beforeAll(async () => {
  stub = await startNotificationStub();
  h = await startHr({ label: 'hrcancelclosed', clock, notificationUrl: stub.url, reactToEvents: true, bus: async (pool) => (bus = await createRecordingBus(pool)) });
  const byName = (name: string) => h.service.subscriptions!.find((s) => s.name === name)!;
  cancelSub = byName(CANCEL_INTERVIEW_SUBSCRIBER);
  scheduleSub = byName(SCHEDULE_INTERVIEW_SUBSCRIBER);
});
afterAll(async () => {
  await h?.stop();
  await stub?.stop();
});
beforeEach(() => {
  clock.set('2026-03-02T10:00:00Z');
  bus.stopFailing();
});

function submitted(employee = h.employeeOf('hrp-berlin')) {
  const resignationId = randomUUID();
  return resignationSubmittedEvent({ resignationId, correlationId: `corr-${resignationId}`, employee, hrPartnerId: employee.hrPartnerId, lastWorkingDay: '2026-03-31', submittedAt: clock.now() });
}
type Submitted = ReturnType<typeof submitted>;
const retained = (s: Submitted) => decisionEvent(EventTypes.resignationRetained, s, clock.now());
const withdrawn = (s: Submitted) => decisionEvent(EventTypes.resignationWithdrawn, s, clock.now());

const deliver = (sub: Subscription, event: CloudEvent) => sub.handle(event, { attempt: 1, lastAttempt: false });
/** The case's interview as the employee's HR partner reads it (every employee here is Berlin's). */
const interviewOf = async (resignationId: string) =>
  (await call<{ items: hr.Interview[] }>(h.base, 'GET', `${hr.HrPaths.interviews}?resignationId=${resignationId}`, undefined, await h.as('hrp-berlin'))).body.items;
async function bookFor(s: Submitted): Promise<hr.Interview> {
  await deliver(scheduleSub, s);
  const [interview] = await interviewOf(s.data.resignationId);
  expect(interview!.status).toBe('scheduled');
  return interview!;
}
const cancellationsOf = async (resignationId: string) => (await bus.published(EventTypes.exitInterviewCancelled)).filter((e) => e.subject === resignationId);
const emailsOf = (resignationId: string, template: string) => stub.received.filter((r) => r.request.resignationId === resignationId && r.request.template === template);

describe('cancelling the exit interview when the resignation is retained or withdrawn', () => {
  it('when the employee is retained, then the scheduled interview is cancelled, both parties get a METHOD:CANCEL for the same event, and exit-interview-cancelled says why', async () => {
    const s = submitted();
    const interview = await bookFor(s);
    const decided = retained(s);

    await deliver(cancelSub, decided);

    const [after] = await interviewOf(s.data.resignationId);
    expect(after).toMatchObject({ id: interview.id, status: 'cancelled', sequence: 1 });
    const cancels = emailsOf(s.data.resignationId, 'exit-interview-cancelled');
    expect(cancels.map((c) => c.request.to.email).sort()).toEqual([s.data.employee.email, h.org.hrPartners.find((p) => p.id === 'hrp-berlin')!.email].sort());
    for (const c of cancels) {
      const ics = c.request.attachments[0]!.content;
      expect(icsValues(ics, 'METHOD')).toEqual(['CANCEL']);
      expect(icsValues(ics, 'UID')).toEqual([interview.uid]);
      expect(icsValues(ics, 'SEQUENCE')).toEqual(['1']);
    }
    const outbox = await h.pool.query<{ status: string }>(`SELECT status FROM hr.outbox WHERE interview_id = $1 AND request->>'template' = 'exit-interview-cancelled'`, [interview.id]);
    expect(outbox.rows.map((r) => r.status)).toEqual(['sent', 'sent']);

    const [event, ...more] = await cancellationsOf(s.data.resignationId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ source: EventSources.hr, subject: s.data.resignationId, correlationid: decided.correlationid });
    expect(event!.traceparent.split('-')[1]).toBe(decided.traceparent.split('-')[1]);
    expect(ExitInterviewCancelled.parse(event!.data)).toEqual({ resignationId: s.data.resignationId, interviewId: interview.id, reason: 'retained' });
  });

  it('when the withdrawal is delivered again, one after the other and at the same moment, then the interview is cancelled once, announced once, and the cancellations go out once', async () => {
    const s = submitted();
    const interview = await bookFor(s);
    const event = withdrawn(s);

    await Promise.all([deliver(cancelSub, event), deliver(cancelSub, event), deliver(cancelSub, event)]);
    await deliver(cancelSub, event);

    expect((await interviewOf(s.data.resignationId))[0]).toMatchObject({ status: 'cancelled', sequence: 1 });
    const events = await cancellationsOf(s.data.resignationId);
    expect(events.map((e) => ExitInterviewCancelled.parse(e.data))).toEqual([{ resignationId: s.data.resignationId, interviewId: interview.id, reason: 'withdrawn' }]);
    expect(emailsOf(s.data.resignationId, 'exit-interview-cancelled')).toHaveLength(2);
  });

  it('when there is no interview, then exit-interview-cancelled says so (no interview id), and a booking that comes later is refused', async () => {
    const s = submitted();

    await deliver(cancelSub, withdrawn(s));

    const events = await cancellationsOf(s.data.resignationId);
    expect(events.map((e) => ExitInterviewCancelled.parse(e.data))).toEqual([{ resignationId: s.data.resignationId, interviewId: null, skipped: 'no interview', reason: 'withdrawn' }]);

    // The submission arrives late (another queue): nothing is booked for a withdrawn resignation.
    await deliver(scheduleSub, s);
    expect(await interviewOf(s.data.resignationId)).toEqual([]);
    const failed = (await bus.published(EventTypes.exitInterviewSchedulingFailed)).filter((e) => e.subject === s.data.resignationId);
    expect(failed).toHaveLength(1);
    expect((failed[0]!.data as { reason: string }).reason).toContain('withdrawn');
    // Nor over HTTP, as the orchestrator would book it: EMS knows the case, and it is withdrawn.
    h.cases.add(s.data.resignationId, s.data.employee.id);
    const http = await call<{ status: number; detail: string }>(h.base, 'POST', hr.HrPaths.interviews, { resignationId: s.data.resignationId, employeeId: s.data.employee.id, lastWorkingDay: '2026-03-31' }, await h.asEms());
    expect(http.status).toBe(409);
    expect(http.body.detail).toContain('withdrawn');
    expect(stub.received.filter((r) => r.request.resignationId === s.data.resignationId)).toEqual([]);
  });

  it('when the interview was already held, then it stays held, nothing is sent, and exit-interview-cancelled says it was skipped', async () => {
    const s = submitted();
    const interview = await bookFor(s);
    clock.set(interview.start); // it has taken place
    expect((await call(h.base, 'POST', hr.HrPaths.held(interview.id), { notes: 'Will stay after all.' }, await h.as('hrp-berlin'))).status).toBe(200);

    await deliver(cancelSub, retained(s));

    expect((await interviewOf(s.data.resignationId))[0]).toMatchObject({ status: 'held', notes: 'Will stay after all.' });
    expect(emailsOf(s.data.resignationId, 'exit-interview-cancelled')).toEqual([]);
    expect((await cancellationsOf(s.data.resignationId)).map((e) => e.data)).toEqual([{ resignationId: s.data.resignationId, interviewId: interview.id, skipped: 'already held', reason: 'retained' }]);
  });

  it('when HR had cancelled the interview already, then nothing more is sent and the event says it was skipped', async () => {
    const s = submitted();
    const interview = await bookFor(s);
    expect((await call(h.base, 'POST', hr.HrPaths.cancel(interview.id), undefined, await h.as('hrp-berlin'))).status).toBe(200);

    await deliver(cancelSub, withdrawn(s));

    expect((await interviewOf(s.data.resignationId))[0]).toMatchObject({ status: 'cancelled', sequence: 1 });
    expect(emailsOf(s.data.resignationId, 'exit-interview-cancelled')).toHaveLength(2);
    expect((await cancellationsOf(s.data.resignationId)).map((e) => e.data)).toEqual([
      { resignationId: s.data.resignationId, interviewId: interview.id, reason: 'cancelled by HR' },
      { resignationId: s.data.resignationId, interviewId: interview.id, skipped: 'already cancelled', reason: 'withdrawn' },
    ]);
  });

  it('when the booking and the withdrawal race, then no interview is left scheduled: either it is cancelled, or it was never booked', async () => {
    for (let i = 0; i < 5; i++) {
      const s = submitted();
      await Promise.all([deliver(scheduleSub, s), deliver(cancelSub, withdrawn(s))]);
      const interviews = await interviewOf(s.data.resignationId);
      expect(interviews.filter((x) => x.status === 'scheduled')).toEqual([]);
      const [cancelled] = await cancellationsOf(s.data.resignationId);
      const data = ExitInterviewCancelled.parse(cancelled!.data);
      if (interviews.length === 1) expect(data).toEqual({ resignationId: s.data.resignationId, interviewId: interviews[0]!.id, reason: 'withdrawn' });
      else expect(data.skipped).toBe('no interview');
    }
  });

  it('when publishing the outcome fails, then nothing is cancelled, sent or marked handled, and the retry cancels once', async () => {
    const s = submitted();
    const interview = await bookFor(s);
    const event = retained(s);
    bus.failPublish({ type: EventTypes.exitInterviewCancelled });

    await expect(deliver(cancelSub, event)).rejects.toThrow('bus told to fail');

    expect((await interviewOf(s.data.resignationId))[0]).toMatchObject({ status: 'scheduled', sequence: 0 });
    expect(emailsOf(s.data.resignationId, 'exit-interview-cancelled')).toEqual([]);
    expect(await cancellationsOf(s.data.resignationId)).toEqual([]);

    await cancelSub.handle(event, { attempt: 2, lastAttempt: false });
    expect((await interviewOf(s.data.resignationId))[0]).toMatchObject({ id: interview.id, status: 'cancelled', sequence: 1 });
    expect(await cancellationsOf(s.data.resignationId)).toHaveLength(1);
    expect(emailsOf(s.data.resignationId, 'exit-interview-cancelled')).toHaveLength(2);
  });

  it('when the bus gives up on the event, then exit-interview-cancellation-failed is published once, however often it is reported; a nameless dead letter publishes nothing', async () => {
    const s = submitted();
    const event = withdrawn(s);

    await cancelSub.onDeadLetter!(event, 'deadlock detected');
    await cancelSub.onDeadLetter!(event, 'deadlock detected');

    const failures = (await bus.published(EventTypes.exitInterviewCancellationFailed)).filter((e) => e.subject === s.data.resignationId);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.correlationid).toBe(event.correlationid);
    const data = ExitInterviewCancellationFailed.parse(failures[0]!.data);
    expect(data).toMatchObject({ resignationId: s.data.resignationId, causationId: event.id });
    expect(data.reason).toContain('deadlock detected');

    const before = (await bus.published()).length;
    await expect(cancelSub.onDeadLetter!({ ...event, id: randomUUID(), data: { nonsense: true } }, 'invalid payload')).resolves.toBeUndefined();
    expect(await bus.published()).toHaveLength(before);
  });
});
