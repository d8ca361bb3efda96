import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Clock, Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import { CriticalAccessSuspended, CriticalAccessSuspensionFailed, EventSources, EventTypes } from '@ems/contracts/events';
import { newTraceparent, type CloudEvent, type Subscription } from '@ems/eventbus';
import { createRecordingBus, resignationSubmittedEvent, type RecordingBus } from '@ems/eventbus/testing';
import { createAccessService, HOLD_REASON, RESTORE_ACCESS_SUBSCRIBER, SCHEDULE_REVOCATION_SUBSCRIBER, SUSPEND_ACCESS_SUBSCRIBER, SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER, UPDATE_IDENTITY_SUBSCRIBER } from '../src/index.ts';
import { bootAccess, criticalGrantsOf, emsCases, knownCase, knownCaseOf, log, org, poolFor, serve, type AccessHttp } from './support.ts';

const candidates = org.employees.filter((e) => criticalGrantsOf(e.id).length >= 2);
let nextCandidate = 0;
/** A different employee for every test, so tests never share state. */
const freshEmployee = () => {
  const e = candidates[nextCandidate++];
  if (!e) throw new Error('out of demo employees');
  return e;
};

const now = new Date('2026-03-02T09:00:00.000Z');
const clock: Clock = { now: () => new Date(now) };

let testDb: TestDatabase;
let pool: Pool;
let bus: RecordingBus;
let subscriber: Subscription;
let http: AccessHttp;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessevents');
  pool = poolFor(testDb);
  bus = await createRecordingBus(pool);
  const service = await bootAccess(pool, { clock, bus, reactToEvents: true });
  const found = service.subscriptions?.find((s) => s.name === SUSPEND_ACCESS_SUBSCRIBER);
  if (!found) throw new Error('no subscriber');
  subscriber = found;
  // Behind the trust boundary: holds are created over HTTP with EMS's service token, as the orchestrator does.
  http = await serve(service, pool);
});

afterAll(async () => {
  await http?.app.close();
  await pool?.end();
  await testDb?.drop();
});

/** The event EMS publishes when `employee` resigns. */
function resignationSubmitted(employee: { id: string; name: string; email: string; timezone: string }) {
  const resignationId = randomUUID();
  return resignationSubmittedEvent({ resignationId, correlationId: `corr-${resignationId}`, employee, submittedAt: now });
}

const deliver = (event: CloudEvent) => subscriber.handle(event, { attempt: 1, lastAttempt: false });
const traceId = (traceparent: string) => traceparent.split('-')[1];

async function holdsFor(resignationId: string) {
  const { rows } = await pool.query<{ id: string; reason: string | null }>('SELECT id, reason FROM access.holds WHERE resignation_id = $1', [resignationId]);
  return rows;
}
async function grantStatuses(employeeId: string): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ id: string; status: string }>('SELECT id, status FROM access.grants WHERE employee_id = $1', [employeeId]);
  return Object.fromEntries(rows.map((r) => [r.id, r.status]));
}
async function auditCount(employeeId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1', [employeeId]);
  return rows[0]!.n;
}
async function processed(eventId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM access.processed_events WHERE event_id = $1', [eventId]);
  return rows[0]!.n;
}
async function suspendedEvents(resignationId: string) {
  return (await bus.published(EventTypes.criticalAccessSuspended)).filter((e) => e.subject === resignationId);
}
async function failureEvents(resignationId: string) {
  return (await bus.published(EventTypes.criticalAccessSuspensionFailed)).filter((e) => e.subject === resignationId);
}

describe('access.suspend-access-when-resignation-submitted', () => {
  it('when an employee resigned, then exactly their critical grants are suspended by one hold and criticalAccessSuspended says which, on the same case and trace', async () => {
    const employee = freshEmployee();
    const event = resignationSubmitted(employee);
    await deliver(event);

    const holds = await holdsFor(event.data.resignationId);
    expect(holds.map((h) => h.reason)).toEqual([HOLD_REASON]);
    const statuses = await grantStatuses(employee.id);
    for (const [grantId, status] of Object.entries(statuses)) {
      expect(status, grantId).toBe(criticalGrantsOf(employee.id).includes(grantId) ? 'suspended' : 'active');
    }

    const [published, ...more] = await suspendedEvents(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = CriticalAccessSuspended.parse(published!.data);
    expect(data).toMatchObject({ resignationId: event.data.resignationId, employeeId: employee.id, holdId: holds[0]!.id });
    expect(data.suspended.map((g) => g.grantId)).toEqual(criticalGrantsOf(employee.id));
    expect(published).toMatchObject({ source: EventSources.access, subject: event.data.resignationId, correlationid: event.correlationid, time: now.toISOString() });
    expect(traceId(published!.traceparent)).toBe(traceId(event.traceparent));
    expect(published!.traceparent).not.toBe(event.traceparent);
  });

  it('when the same event is delivered twice in a row, then there is one hold, one set of audit entries and one outcome event', async () => {
    const employee = freshEmployee();
    const event = resignationSubmitted(employee);
    await deliver(event);
    const audits = await auditCount(employee.id);
    await deliver(event);
    await subscriber.handle(event, { attempt: 2, lastAttempt: false });

    expect(await holdsFor(event.data.resignationId)).toHaveLength(1);
    expect(await auditCount(employee.id)).toBe(audits);
    expect(audits).toBe(criticalGrantsOf(employee.id).length);
    expect(await suspendedEvents(event.data.resignationId)).toHaveLength(1);
    expect(await processed(event.id)).toBe(1);
  });

  it('when the same event is delivered 6 times at once, then one hold is created and one outcome event published', async () => {
    const employee = freshEmployee();
    const event = resignationSubmitted(employee);
    await Promise.all(Array.from({ length: 6 }, () => deliver(event)));

    expect(await holdsFor(event.data.resignationId)).toHaveLength(1);
    expect(await auditCount(employee.id)).toBe(criticalGrantsOf(employee.id).length);
    expect(await suspendedEvents(event.data.resignationId)).toHaveLength(1);
    expect(await failureEvents(event.data.resignationId)).toHaveLength(0);
    expect(await processed(event.id)).toBe(1);
  });

  it('when the transaction fails after the outcome event was published, then neither the hold nor the event nor the processed mark survive, and the redelivery does it once', async () => {
    const employee = freshEmployee();
    const event = resignationSubmitted(employee);
    bus.failPublish({ type: EventTypes.criticalAccessSuspended });
    await expect(deliver(event)).rejects.toThrow(/forced failure/);

    expect(await holdsFor(event.data.resignationId)).toHaveLength(0);
    expect(Object.values(await grantStatuses(employee.id)).every((s) => s === 'active')).toBe(true);
    expect(await auditCount(employee.id)).toBe(0);
    expect(await suspendedEvents(event.data.resignationId)).toHaveLength(0);
    expect(await processed(event.id)).toBe(0);

    // The bus retries: this time it commits, once.
    await subscriber.handle(event, { attempt: 2, lastAttempt: false });
    expect(await holdsFor(event.data.resignationId)).toHaveLength(1);
    expect(await suspendedEvents(event.data.resignationId)).toHaveLength(1);
  });

  it('when the employee has no identity here, then criticalAccessSuspensionFailed names them, nothing is held, and a redelivery publishes nothing more', async () => {
    const event = resignationSubmitted({ id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'Europe/Berlin' });
    await deliver(event);

    expect(await holdsFor(event.data.resignationId)).toHaveLength(0);
    expect(await suspendedEvents(event.data.resignationId)).toHaveLength(0);
    const [failed, ...more] = await failureEvents(event.data.resignationId);
    expect(more).toHaveLength(0);
    const data = CriticalAccessSuspensionFailed.parse(failed!.data);
    expect(data).toMatchObject({ resignationId: event.data.resignationId, causationId: event.id });
    expect(data.reason).toContain('E9999');
    expect(failed).toMatchObject({ source: EventSources.access, correlationid: event.correlationid });

    await deliver(event);
    expect(await failureEvents(event.data.resignationId)).toHaveLength(1);
  });

  it('when 12 deliveries arrive at once (one event twice, one of an unknown employee), then they share one transaction (a worker’s batch is gathered) and each is handled as if alone', async () => {
    const employees = Array.from({ length: 10 }, () => freshEmployee());
    const events = employees.map((e) => resignationSubmitted(e));
    const unknown = resignationSubmitted({ id: 'E9998', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'Europe/Berlin' });
    const deliveries = [...events.slice(0, 5), unknown, events[3]!, ...events.slice(5)];
    await Promise.all(deliveries.map((e) => deliver(e)));

    // Handed over in one turn (as a worker hands over its batch): all in one transaction (processed_at is its start).
    const { rows } = await pool.query<{ at: string }>('SELECT DISTINCT processed_at::text AS at FROM access.processed_events WHERE event_id = ANY($1::text[])', [deliveries.map((e) => e.id)]);
    expect(rows).toHaveLength(1);
    for (const [i, e] of events.entries()) {
      expect(await holdsFor(e.data.resignationId)).toHaveLength(1);
      expect(await processed(e.id)).toBe(1);
      expect(await suspendedEvents(e.data.resignationId)).toHaveLength(1);
      expect(await auditCount(employees[i]!.id)).toBe(criticalGrantsOf(employees[i]!.id).length);
      expect(Object.entries(await grantStatuses(employees[i]!.id)).filter(([, s]) => s === 'suspended').map(([id]) => id).sort()).toEqual(criticalGrantsOf(employees[i]!.id));
    }
    expect(await holdsFor(unknown.data.resignationId)).toHaveLength(0);
    expect(await failureEvents(unknown.data.resignationId)).toHaveLength(1);
  });

  it('when the resignation already has a hold for another employee, then the event ends in criticalAccessSuspensionFailed (a conflict is not retried)', async () => {
    const employee = freshEmployee();
    const other = freshEmployee();
    const event = resignationSubmitted(employee);
    const first = await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(other.id, event.data.resignationId), employeeId: other.id });
    expect(first.status).toBe(201);

    await deliver(event);
    expect(Object.values(await grantStatuses(employee.id)).every((s) => s === 'active')).toBe(true);
    const [failed] = await failureEvents(event.data.resignationId);
    expect(CriticalAccessSuspensionFailed.parse(failed!.data).reason).toContain('already has an access hold');
  });

  it('when an event is dead-lettered, then criticalAccessSuspensionFailed carries the reason and the cause', async () => {
    const event = resignationSubmitted(freshEmployee());
    await subscriber.onDeadLetter!(event, 'connection terminated unexpectedly (5 attempts)');
    const [failed, ...more] = await failureEvents(event.data.resignationId);
    expect(more).toHaveLength(0);
    expect(failed!.data).toEqual({ resignationId: event.data.resignationId, reason: 'connection terminated unexpectedly (5 attempts)', causationId: event.id });
    expect(failed!.correlationid).toBe(event.correlationid);
  });

  it('when a dead-lettered event has a payload that names no case, then nothing is published and nothing throws', async () => {
    const event = { ...resignationSubmitted(freshEmployee()), subject: 'not-a-uuid', data: { garbage: true } };
    const before = (await bus.published()).length;
    await subscriber.onDeadLetter!(event, 'invalid payload');
    expect((await bus.published()).length).toBe(before);
  });
});

describe('access events in orchestration mode (HTTP, bus configured)', () => {
  /** Suspends as the orchestrator does, for the case the body names (EMS knows it). */
  const post = (body: unknown, headers: Record<string, string> = {}) => {
    knownCaseOf(body);
    return http.call('POST', access.AccessPaths.holds, body, headers);
  };

  it('when a hold is created over HTTP, then criticalAccessSuspended is published with the caller’s correlation id and trace; a repeat publishes nothing', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const traceparent = newTraceparent();
    const res = await post({ resignationId, employeeId: employee.id }, { 'x-correlation-id': 'corr-http', traceparent, 'idempotency-key': `${resignationId}:suspendAccess` });
    expect(res.status).toBe(201);
    const hold = access.AccessHold.parse(res.body);

    const [published, ...more] = await suspendedEvents(resignationId);
    expect(more).toHaveLength(0);
    expect(published).toMatchObject({ correlationid: 'corr-http', data: { holdId: hold.id, employeeId: employee.id, suspended: hold.suspendedGrants } });
    expect(traceId(published!.traceparent)).toBe(traceId(traceparent));

    expect((await post({ resignationId, employeeId: employee.id }, { 'idempotency-key': `${resignationId}:suspendAccess` })).status).toBe(200);
    expect((await post({ resignationId, employeeId: employee.id })).status).toBe(200);
    expect(await suspendedEvents(resignationId)).toHaveLength(1);
  });

  it('when the caller sends no correlation id and a malformed traceparent, then the event is correlated by the resignation id and starts a new trace', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    expect((await post({ resignationId, employeeId: employee.id }, { traceparent: 'garbage' })).status).toBe(201);
    const [published] = await suspendedEvents(resignationId);
    expect(published!.correlationid).toBe(resignationId);
  });

  it('when the employee is unknown over HTTP, then 404 and no event of any kind', async () => {
    const resignationId = randomUUID();
    const res = await post({ resignationId, employeeId: 'E9999' });
    expect(res.status).toBe(404);
    expect((await bus.published()).filter((e) => e.subject === resignationId)).toHaveLength(0);
  });
});

describe('wiring', () => {
  it('when no bus is given, then the service has no subscriptions; with one it follows the directory in both modes, and reacts to the case only when asked; asking it to react without a bus is refused', () => {
    const cases = emsCases.lookup;
    expect(createAccessService({ pool, log, cases }).subscriptions).toBeUndefined();
    expect(createAccessService({ pool, log, cases, bus }).subscriptions?.map((s) => [s.name, s.types])).toEqual([[UPDATE_IDENTITY_SUBSCRIBER, [EventTypes.personChanged]]]);
    expect(() => createAccessService({ pool, log, cases, reactToEvents: true })).toThrow(/needs a bus/);
    expect(createAccessService({ pool, log, cases, bus, reactToEvents: true }).subscriptions?.map((s) => [s.name, s.types])).toEqual([
      [SUSPEND_ACCESS_SUBSCRIBER, [EventTypes.resignationSubmitted]],
      [RESTORE_ACCESS_SUBSCRIBER, [EventTypes.resignationRetained, EventTypes.resignationWithdrawn]],
      [SCHEDULE_REVOCATION_SUBSCRIBER, [EventTypes.exitConfirmed]],
      [SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER, [EventTypes.involuntaryExitsStarted]],
      [UPDATE_IDENTITY_SUBSCRIBER, [EventTypes.personChanged]],
    ]);
  });
});
