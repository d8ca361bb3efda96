import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adjustableClock, type Pool } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import { AccessRestorationFailed, AccessRestored, EventSources, EventTypes } from '@ems/contracts/events';
import { newTraceparent, type CloudEvent, type EventBus, type EventBusTestHooks, type Subscription } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import { RESTORE_ACCESS_SUBSCRIBER, SUSPEND_ACCESS_SUBSCRIBER } from '../src/index.ts';
import { bootAccess, count, criticalGrantsOf, employeePicker, knownCase, log, poolFor, resignationClosedEvent, serve, systemOf, type AccessHttp } from './support.ts';

/**
 * Lifting a hold, by API (both modes) and by the choreography subscriber, through the real PostgreSQL
 * bus: what `accessRestored` says is exactly what happened to the grants.
 */

const freshEmployee = employeePicker();
const clock = adjustableClock(new Date('2026-03-02T09:00:00.000Z'));

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let http: AccessHttp;
let restoreAccess: Subscription;
const outcomes = createEventProbe('test.access-lift-outcomes', [
  EventTypes.criticalAccessSuspended,
  EventTypes.accessRestored,
  EventTypes.accessRestorationFailed,
]);

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accesslift');
  pool = poolFor(testDb, 20);
  bus = createTestPostgresBus(pool, { log, defaultRetry: { maxAttempts: 2, backoffMs: 500 } });
  const service = await bootAccess(pool, { clock, bus, reactToEvents: true });
  for (const s of service.subscriptions ?? []) await bus.subscribe(s);
  restoreAccess = service.subscriptions!.find((s) => s.name === RESTORE_ACCESS_SUBSCRIBER)!;
  await bus.subscribe(outcomes.subscription);
  await bus.start();
  http = await serve(service, pool);
});

afterAll(async () => {
  await http?.app.close();
  await bus?.stop();
  await pool?.end();
  await testDb?.drop();
});

const publish = (event: CloudEvent) => publishInTransaction(pool, bus, [event]);
/** Barrier: every job on the bus has run to its end (deliveries, retries, dead letters): all a duplicate would do and publish is done and has reached the probe. */
const busIdle = () => waitFor(async () => ((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bus.job WHERE state < 'completed'`)).rows[0]!.n === 0 ? true : undefined), 'every job on the bus to have run');
const restoredAbout = (resignationId: string) => outcomes.about(resignationId).filter((e) => e.type === EventTypes.accessRestored);
async function waitRestored(resignationId: string) {
  const [event] = await waitFor(() => (restoredAbout(resignationId).length > 0 ? restoredAbout(resignationId) : undefined), 'accessRestored');
  return { event: event!, data: AccessRestored.parse(event!.data) };
}
async function holdOf(resignationId: string) {
  const list = access.HoldList.parse((await http.call('GET', `${access.AccessPaths.holds}?resignationId=${resignationId}`)).body);
  return list.items;
}
/** Puts the employee's critical access on hold the choreographed way and waits for it. */
async function suspendedByEvent(employee: ReturnType<typeof freshEmployee>) {
  const submitted = resignationSubmittedEvent({ employee, correlationId: `corr-${randomUUID()}` });
  const resignationId = submitted.data.resignationId;
  await publish(submitted);
  await outcomes.waitFor(resignationId, 'criticalAccessSuspended');
  return resignationId;
}
const processedBy = (subscriber: string, eventId: string) =>
  count(pool, 'SELECT count(*)::int AS n FROM access.processed_events WHERE subscriber = $1 AND event_id = $2', [subscriber, eventId]);

describe('releasing a hold publishes accessRestored', () => {
  it('when a hold is released over HTTP after an admin revoked one of its grants, then accessRestored lists exactly the restored grants, the revoked one is skipped with its reason and stays revoked', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const created = await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId: employee.id });
    expect(created.status).toBe(201);
    const hold = access.AccessHold.parse(created.body);
    const [revoked, ...restorable] = criticalGrantsOf(employee.id);
    await pool.query(`UPDATE access.grants SET status = 'revoked', suspended_by_hold = NULL WHERE id = $1`, [revoked]);
    clock.advance(60_000);

    const traceparent = newTraceparent();
    const released = await http.call('POST', access.AccessPaths.release(hold.id), { reason: 'Resignation withdrawn' }, { 'x-correlation-id': 'corr-http', traceparent });
    expect(released.status).toBe(200);

    const { event, data } = await waitRestored(resignationId);
    expect(data).toEqual({
      resignationId,
      employeeId: employee.id,
      holdId: hold.id,
      restored: restorable.map((g) => ({ grantId: g, system: systemOf(g) })),
      skipped: [{ grantId: revoked!, system: systemOf(revoked!), reason: 'revoked since the hold' }],
    });
    expect(event).toMatchObject({ source: EventSources.access, subject: resignationId, correlationid: 'corr-http' });
    expect(event.traceparent.split('-')[1]).toBe(traceparent.split('-')[1]);

    const after = await http.effective(employee.id);
    expect(after[revoked!]).toBe('revoked');
    for (const g of restorable) expect(after[g]).toBe('active');

    // A second release changes nothing and publishes nothing.
    expect((await http.call('POST', access.AccessPaths.release(hold.id))).status).toBe(200);
    await busIdle(); // what the repeat published (in its transaction, before it answered) has been delivered
    expect(restoredAbout(resignationId)).toHaveLength(1);
  });

  it('when the employee has another active hold, then the release restores nothing and lists the grants as skipped, still held by that hold', async () => {
    const employee = freshEmployee();
    const first = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employee.id), employeeId: employee.id })).body);
    const second = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employee.id), employeeId: employee.id })).body);
    expect((await http.call('POST', access.AccessPaths.release(first.id))).status).toBe(200);
    const { data } = await waitRestored(first.resignationId);
    expect(data.restored).toEqual([]);
    expect(data.skipped).toEqual(criticalGrantsOf(employee.id).map((g) => ({ grantId: g, system: systemOf(g), reason: `still suspended by access hold ${second.id}` })));
    for (const g of criticalGrantsOf(employee.id)) expect((await http.effective(employee.id))[g]).toBe('suspended');
  });
});

describe('access.restore-access-when-resignation-closed', () => {
  it('when resignationRetained is published twice (a duplicate on the wire), then the hold is lifted once: grants active again, one set of audit entries, one accessRestored on the case', async () => {
    const employee = freshEmployee();
    const resignationId = await suspendedByEvent(employee);
    const [hold] = await holdOf(resignationId);
    const audits = await count(pool, 'SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1', [employee.id]);

    const retained = resignationClosedEvent('retained', resignationId, employee);
    await publish(retained);
    await publish(retained);

    const { event, data } = await waitRestored(resignationId);
    expect(data).toEqual({
      resignationId,
      employeeId: employee.id,
      holdId: hold!.id,
      restored: criticalGrantsOf(employee.id).map((g) => ({ grantId: g, system: systemOf(g) })),
      skipped: [],
    });
    expect(event).toMatchObject({ correlationid: retained.correlationid });
    expect(event.traceparent.split('-')[1]).toBe(retained.traceparent.split('-')[1]);
    await busIdle(); // the duplicate has been delivered and handled
    expect(restoredAbout(resignationId)).toHaveLength(1);
    expect(await processedBy(RESTORE_ACCESS_SUBSCRIBER, retained.id)).toBe(1);

    expect(Object.values(await http.effective(employee.id)).every((s) => s === 'active')).toBe(true);
    const [released] = await holdOf(resignationId);
    expect(released).toMatchObject({ id: hold!.id, status: 'released' });
    const lifted = await http.audit(`holdId=${hold!.id}`);
    expect(lifted.filter((e) => e.to === 'active').map((e) => [e.grantId, e.reason])).toEqual(criticalGrantsOf(employee.id).map((g) => [g, 'resignation retained']));
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1', [employee.id])).toBe(audits + criticalGrantsOf(employee.id).length);
  });

  it('when a grant of the hold was revoked before the withdrawal, then it is skipped and stays revoked; the rest is restored', async () => {
    const employee = freshEmployee();
    const resignationId = await suspendedByEvent(employee);
    const [revoked, ...restorable] = criticalGrantsOf(employee.id);
    await pool.query(`UPDATE access.grants SET status = 'revoked', suspended_by_hold = NULL WHERE id = $1`, [revoked]);

    await publish(resignationClosedEvent('withdrawn', resignationId, employee));
    const { data } = await waitRestored(resignationId);
    expect(data.restored.map((g) => g.grantId)).toEqual(restorable);
    expect(data.skipped).toEqual([{ grantId: revoked!, system: systemOf(revoked!), reason: 'revoked since the hold' }]);
    const after = await http.effective(employee.id);
    expect(after[revoked!]).toBe('revoked');
    for (const g of restorable) expect(after[g]).toBe('active');
  });

  it('when the hold was released before the decision arrives, then accessRestored answers with the hold and nothing restored', async () => {
    const employee = freshEmployee();
    const resignationId = await suspendedByEvent(employee);
    const [hold] = await holdOf(resignationId);
    expect((await http.call('POST', access.AccessPaths.release(hold!.id))).status).toBe(200);
    await waitRestored(resignationId);

    await publish(resignationClosedEvent('retained', resignationId, employee));
    const both = await waitFor(() => (restoredAbout(resignationId).length === 2 ? restoredAbout(resignationId) : undefined), 'a second accessRestored');
    expect(AccessRestored.parse(both[1]!.data)).toEqual({ resignationId, employeeId: employee.id, holdId: hold!.id, restored: [], skipped: [] });
  });

  it('when the resignation is withdrawn before any hold exists, then accessRestored says there was none, and a hold requested late suspends nothing', async () => {
    const employee = freshEmployee();
    const submitted = resignationSubmittedEvent({ employee });
    const resignationId = submitted.data.resignationId;

    await publish(resignationClosedEvent('withdrawn', resignationId, employee));
    const { data } = await waitRestored(resignationId);
    expect(data).toEqual({ resignationId, employeeId: employee.id, holdId: null, restored: [], skipped: [] });

    // The submission's event arrives late (e.g. a dead letter replayed): the closed case gets no hold.
    await publish(submitted);
    await waitFor(async () => ((await processedBy(SUSPEND_ACCESS_SUBSCRIBER, submitted.id)) === 1 ? true : undefined), 'the late submission to be handled');
    expect(Object.values(await http.effective(employee.id)).every((s) => s === 'active')).toBe(true);
    const holds = await holdOf(resignationId);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ status: 'released', suspendedGrants: [] });
    expect(outcomes.about(resignationId).filter((e) => e.type === EventTypes.criticalAccessSuspended)).toEqual([]);
  });

  it('when the employee is unknown to Access, then accessRestored says there was no hold and nothing is stored', async () => {
    const stranger = { id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'UTC', hrPartnerId: 'HR1' };
    const resignationId = randomUUID();
    await publish(resignationClosedEvent('retained', resignationId, stranger));
    const { data } = await waitRestored(resignationId);
    expect(data).toEqual({ resignationId, employeeId: 'E9999', holdId: null, restored: [], skipped: [] });
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [resignationId])).toBe(0);
  });

  it('when lifting the hold finally fails, then the dead letter publishes accessRestorationFailed with the reason', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const event = resignationClosedEvent('retained', resignationId, employee);
    await restoreAccess.onDeadLetter!(event, 'database unavailable');
    const failed = await waitFor(() => {
      const found = outcomes.about(resignationId).filter((e) => e.type === EventTypes.accessRestorationFailed);
      return found.length > 0 ? found : undefined;
    }, 'accessRestorationFailed');
    expect(AccessRestorationFailed.parse(failed[0]!.data)).toEqual({ resignationId, reason: 'database unavailable', causationId: event.id });
    expect(failed[0]).toMatchObject({ correlationid: event.correlationid });
  });
});
