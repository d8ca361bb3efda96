import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adjustableClock, type Pool } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { access } from '@ems/contracts';
import { AccessRestored, EventTypes } from '@ems/contracts/events';
import type { EventBus, EventBusTestHooks } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus } from '@ems/eventbus/testing';
import { ACCESS_ADMIN, bootAccess, count, employeePicker, knownCase, log, poolFor, serve, type AccessHttp } from './support.ts';

/**
 * The orchestrator's command for a closed case (restoreAccess, POST /api/access-holds/lifts) runs the use case the
 * choreography subscriber runs (restore-access.ts): the same answer as accessRestored, and the same record of a
 * hold that never was — so a hold asked for late suspends nothing, in both modes. Real PostgreSQL and bus.
 */
const freshEmployee = employeePicker();
const clock = adjustableClock(new Date('2026-03-02T09:00:00.000Z'));

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let http: AccessHttp;
const outcomes = createEventProbe('test.access-lift-command-outcomes', [EventTypes.accessRestored, EventTypes.criticalAccessSuspended]);

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessliftcmd');
  pool = poolFor(testDb, 10);
  bus = createTestPostgresBus(pool, { log });
  // Orchestration: Access publishes its outcomes, reacts to no event.
  const service = await bootAccess(pool, { clock, bus, reactToEvents: false });
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

const lift = async (resignationId: string, employeeId: string) =>
  http.call('POST', access.AccessPaths.lifts, { resignationId, employeeId, reason: 'resignation withdrawn' }, { ...(await http.identity.callAuth('ems')('access')), 'idempotency-key': `${resignationId}:restoreAccess` });
const restoredAbout = (resignationId: string) => waitFor(() => outcomes.about(resignationId).find((e) => e.type === EventTypes.accessRestored), 'accessRestored');

describe('restoreAccess: the orchestrator lifts a closed case’s hold', () => {
  it('when the case has a hold, then its grants come back, the answer says which, and accessRestored says the same; asked again, nothing more is restored', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const hold = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId: employee.id })).body);
    expect(hold.suspendedGrants.length).toBeGreaterThan(0);

    const res = await lift(resignationId, employee.id);
    expect(res.status).toBe(200);
    const answer = access.HoldLifted.parse(res.body);
    expect(answer).toMatchObject({ resignationId, employeeId: employee.id, holdId: hold.id, skipped: [] });
    expect(answer.restored.map((g) => g.grantId).sort()).toEqual(hold.suspendedGrants.map((g) => g.grantId).sort());
    expect(AccessRestored.parse((await restoredAbout(resignationId)).data)).toEqual(answer);
    expect(Object.values(await http.effective(employee.id)).every((s) => s === 'active')).toBe(true);

    const again = access.HoldLifted.parse((await lift(resignationId, employee.id)).body);
    expect(again).toEqual({ ...answer, restored: [] });
  });

  it('when the case has no hold yet, then the answer says none, a released hold is recorded, and a hold asked for late suspends nothing (as in choreography)', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const res = await lift(resignationId, employee.id);
    expect(access.HoldLifted.parse(res.body)).toEqual({ resignationId, employeeId: employee.id, holdId: null, restored: [], skipped: [] });
    expect(AccessRestored.parse((await restoredAbout(resignationId)).data).holdId).toBeNull();

    // A step retried late (or a replayed request) asks for the hold after the case closed.
    const late = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId: employee.id })).body);
    expect(late).toMatchObject({ status: 'released', suspendedGrants: [] });
    expect(Object.values(await http.effective(employee.id)).every((s) => s === 'active')).toBe(true);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [resignationId])).toBe(1);
  });

  it('when an access administrator asks, then 403: only the orchestrator lifts holds this way', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const res = await http.call('POST', access.AccessPaths.lifts, { resignationId, employeeId: employee.id, reason: 'x' }, await http.identity.as(ACCESS_ADMIN));
    expect(res.status).toBe(403);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [resignationId])).toBe(0);
  });

  it('when the case is not one EMS knows, or not the employee’s, then 404 / 409 and nothing is recorded: a lift cannot leave a released hold that blocks a real case’s hold later', async () => {
    const employee = freshEmployee();
    const unknown = '00000000-0000-4000-8000-000000000001';
    const res = await lift(unknown, employee.id);
    expect(res.status).toBe(404);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [unknown])).toBe(0);
    const other = freshEmployee();
    const theirs = knownCase(other.id);
    const mismatch = await lift(theirs, employee.id);
    expect(mismatch.status).toBe(409);
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.holds WHERE resignation_id = $1', [theirs])).toBe(0);
  });
});
