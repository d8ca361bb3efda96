import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adjustableClock, createKysely, type Pool, type ServiceModule } from '@ems/platform';
import { createTestDatabase, sleep, waitFor, type TestDatabase } from '@ems/platform/testing';
import type { DemoOrg } from '@ems/demo-org';
import { access } from '@ems/contracts';
import { AccessRevocationFailed, AccessRevocationScheduled, AccessRevoked, EventSources, EventTypes } from '@ems/contracts/events';
import type { CloudEvent, EventBus, EventBusTestHooks, EventedService, Subscription } from '@ems/eventbus';
import { createEventProbe, createTestPostgresBus, publishInTransaction } from '@ems/eventbus/testing';
import { ACCESS_SCHEMA, SCHEDULE_REVOCATION_SUBSCRIBER } from '../src/index.ts';
import type { AccessDB } from '../src/db/access.db.ts';
import { createRevocationTimer } from '../src/revoke-access/revocation-timer.ts';
import { bootAccess, count, criticalGrantsOf, employeePicker, exitConfirmedEvent, grantsOf, knownCase, knownCaseOf, log, poolFor, serve, systemOf, type AccessHttp } from './support.ts';

/**
 * Revoking a leaver's access: at once, or on Access's own durable timer (rows claimed with FOR UPDATE
 * SKIP LOCKED, compared with an adjustable clock), requested over HTTP (both modes) or by the
 * exit-confirmed event (choreography), through the real PostgreSQL bus.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POLL_MS = 200;
/** Only for "a stopped process fires nothing": there is no pass to wait for when no timer runs. */
const SEVERAL_POLLS_MS = 1_200;

const freshEmployee = employeePicker();
const clock = adjustableClock(new Date('2026-03-02T09:00:00.000Z'));

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let http: AccessHttp;
let scheduleRevocation: Subscription;
type Instance = ServiceModule<DemoOrg> & EventedService;
/** Every service instance this file started, so each test can stop all timers it does not want running. */
const running = new Set<Instance>();
const extraPools: Pool[] = [];
const outcomes = createEventProbe('test.access-revocation-outcomes', [EventTypes.accessRevocationScheduled, EventTypes.accessRevoked, EventTypes.accessRevocationFailed]);

async function startInstance(onPool: Pool = pool): Promise<Instance> {
  const instance = await bootAccess(onPool, { clock, bus, timerIntervalMs: POLL_MS });
  await instance.start!();
  running.add(instance);
  return instance;
}
async function stopInstance(instance: Instance): Promise<void> {
  await instance.stop!();
  running.delete(instance);
}

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessrevoke');
  pool = poolFor(testDb, 20);
  bus = createTestPostgresBus(pool, { log, defaultRetry: { maxAttempts: 2, backoffMs: 500 } });
  // The instance that serves HTTP and reacts to events; its timer runs like any other's.
  const main = await bootAccess(pool, { clock, bus, reactToEvents: true, timerIntervalMs: POLL_MS });
  await main.start!();
  running.add(main);
  for (const s of main.subscriptions ?? []) await bus.subscribe(s);
  scheduleRevocation = main.subscriptions!.find((s) => s.name === SCHEDULE_REVOCATION_SUBSCRIBER)!;
  await bus.subscribe(outcomes.subscription);
  await bus.start();
  http = await serve(main, pool);
});

afterAll(async () => {
  await http?.app.close();
  for (const instance of running) await instance.stop!();
  await bus?.stop();
  for (const p of extraPools) await p.end();
  await pool?.end();
  await testDb?.drop();
});

/** Revokes as EMS does, for the case the body names (EMS knows it as the first employee named for it). */
const revoke = (body: unknown, headers?: Record<string, string>) => {
  knownCaseOf(body);
  return http.call('POST', access.AccessPaths.revocations, body, headers);
};
const revocation = (a: { body: unknown }) => access.Revocation.parse(a.body);
const publish = (event: CloudEvent) => publishInTransaction(pool, bus, [event]);
/**
 * Barrier: one whole round of the revocation timer (the code every instance polls with) at the clock's
 * time now. After it, a revocation it should not fire is still scheduled, on a machine of any speed.
 */
const timerPass = () => createRevocationTimer({ db: createKysely<AccessDB>(pool, ACCESS_SCHEMA), clock, log, bus }, { intervalMs: POLL_MS }).runDue();
/** Barrier: every job on the bus has run to its end (deliveries, retries, dead letters): all a duplicate or a second firing would publish has reached the probe. */
const busIdle = () => waitFor(async () => ((await count(pool, `SELECT count(*)::int AS n FROM bus.job WHERE state < 'completed'`)) === 0 ? true : undefined), 'every job on the bus to have run');
const inFuture = (ms: number) => new Date(clock.now().getTime() + ms);
const eventsAbout = (resignationId: string, type: string) => outcomes.about(resignationId).filter((e) => e.type === type);
async function waitEvent(resignationId: string, type: string, n = 1): Promise<CloudEvent[]> {
  return waitFor(() => (eventsAbout(resignationId, type).length >= n ? eventsAbout(resignationId, type) : undefined), `${n} × ${type}`);
}
async function revocationOf(resignationId: string): Promise<access.Revocation | undefined> {
  const list = access.RevocationList.parse((await http.call('GET', `${access.AccessPaths.revocations}?resignationId=${resignationId}`)).body);
  expect(list.items.length).toBeLessThanOrEqual(1);
  return list.items[0];
}
async function waitDone(resignationId: string): Promise<access.Revocation> {
  return waitFor(async () => {
    const r = await revocationOf(resignationId);
    return r?.status === 'done' ? r : undefined;
  }, `the revocation of ${resignationId} to be done`);
}
const allRevoked = async (employeeId: string) => Object.values(await http.effective(employeeId)).every((s) => s === 'revoked');
const noneRevoked = async (employeeId: string) => Object.values(await http.effective(employeeId)).every((s) => s !== 'revoked');
const revokedAudits = (employeeId: string) => count(pool, `SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1 AND to_status = 'revoked'`, [employeeId]);
const everyGrant = (employeeId: string) => grantsOf(employeeId).map((g) => ({ grantId: g, system: systemOf(g) }));

describe('revoking now (POST /api/access-revocations)', () => {
  it('when a revocation without revokeAt is requested for an employee on hold, then every grant is revoked at once, audited (naming the hold for the suspended ones), the hold is closed and accessRevoked lists them', async () => {
    const employee = freshEmployee();
    const resignationId = knownCase(employee.id);
    const hold = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId: employee.id })).body);

    const a = await revoke({ resignationId, employeeId: employee.id, reason: 'Exit confirmed' }, { 'x-correlation-id': 'corr-now' });
    expect(a.status).toBe(201);
    const r = revocation(a);
    expect(r).toMatchObject({ resignationId, employeeId: employee.id, status: 'done', revision: 1 });
    expect(r.doneAt).not.toBeNull();
    expect(Date.parse(r.revokeAt)).toBeLessThanOrEqual(Date.parse(r.doneAt!));
    expect(Math.abs(Date.parse(r.doneAt!) - clock.now().getTime())).toBeLessThan(60_000);
    expect(r.revoked).toEqual(everyGrant(employee.id));

    expect(await allRevoked(employee.id)).toBe(true);
    const audit = (await http.audit(`employeeId=${employee.id}`)).filter((e) => e.to === 'revoked');
    expect(audit.map((e) => [e.grantId, e.from, e.reason, e.holdId])).toEqual(
      grantsOf(employee.id).map((g) => (criticalGrantsOf(employee.id).includes(g) ? [g, 'suspended', 'Exit confirmed', hold.id] : [g, 'active', 'Exit confirmed', null])),
    );
    expect(access.AccessHold.parse((await http.call('GET', access.AccessPaths.hold(hold.id))).body).status).toBe('released');

    const [revoked] = await waitEvent(resignationId, EventTypes.accessRevoked);
    expect(AccessRevoked.parse(revoked!.data)).toEqual({ resignationId, employeeId: employee.id, revokedAt: r.doneAt, revoked: everyGrant(employee.id) });
    expect(revoked).toMatchObject({ source: EventSources.access, subject: resignationId, correlationid: 'corr-now' });
    expect(eventsAbout(resignationId, EventTypes.accessRevocationScheduled)).toEqual([]);

    // A repeat, even with a newer revision, answers the done revocation and changes nothing.
    const audits = await revokedAudits(employee.id);
    const again = await revoke({ resignationId, employeeId: employee.id, revision: 2, revokeAt: inFuture(DAY).toISOString() });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(a.body);
    expect(await revokedAudits(employee.id)).toBe(audits);
    expect((await http.call('GET', access.AccessPaths.revocation(r.id))).body).toEqual(a.body);
  });

  it('when revokeAt is not in the future, then the grants are revoked at once', async () => {
    const employee = freshEmployee();
    const a = await revoke({ resignationId: randomUUID(), employeeId: employee.id, revokeAt: inFuture(-HOUR).toISOString() });
    expect(a.status).toBe(201);
    expect(revocation(a).status).toBe('done');
    expect(await allRevoked(employee.id)).toBe(true);
  });

  it('when the employee has no grants, then the revocation is done with an empty list', async () => {
    await pool.query(`INSERT INTO access.identities (employee_id) VALUES ('E-NOGRANTS')`);
    const resignationId = randomUUID();
    const a = await revoke({ resignationId, employeeId: 'E-NOGRANTS' });
    expect(a.status).toBe(201);
    expect(revocation(a)).toMatchObject({ status: 'done', revoked: [] });
    const [revoked] = await waitEvent(resignationId, EventTypes.accessRevoked);
    expect(AccessRevoked.parse(revoked!.data).revoked).toEqual([]);
  });

  it('when the request is invalid, then 400 problem naming the field; an unknown employee, then 404; nothing is stored', async () => {
    const employee = freshEmployee();
    const before = await count(pool, 'SELECT count(*)::int AS n FROM access.revocations');
    const bad: unknown[] = [
      { resignationId: 'nope', employeeId: employee.id },
      { resignationId: randomUUID() },
      { resignationId: randomUUID(), employeeId: employee.id, revokeAt: 'tomorrow' },
      { resignationId: randomUUID(), employeeId: employee.id, revision: 0 },
      { resignationId: randomUUID(), employeeId: employee.id, revision: 1.5 },
      { resignationId: randomUUID(), employeeId: employee.id, extra: true },
      { resignationId: randomUUID(), employeeId: employee.id, reason: 'x'.repeat(501) },
    ];
    for (const body of bad) {
      const a = await revoke(body);
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.type).toContain('application/problem+json');
    }
    const missing = await revoke({ resignationId: randomUUID(), revokeAt: 'tomorrow' });
    expect((missing.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(expect.arrayContaining(['body.employeeId', 'body.revokeAt']));

    const unknown = await revoke({ resignationId: randomUUID(), employeeId: 'E9999' });
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.revocations')).toBe(before);
    expect(await noneRevoked(employee.id)).toBe(true);
  });

  it('when a resignation is sent again for another employee, or an Idempotency-Key is reused for another resignation, then 409 and nothing changes', async () => {
    const employee = freshEmployee();
    const other = freshEmployee();
    const resignationId = randomUUID();
    const key = `key-${randomUUID()}`;
    const first = await revoke({ resignationId, employeeId: employee.id, revokeAt: inFuture(DAY).toISOString() }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const repeat = await revoke({ resignationId, employeeId: employee.id, revokeAt: inFuture(DAY).toISOString() }, { 'idempotency-key': key });
    expect(repeat.status).toBe(200);
    expect(revocation(repeat).id).toBe(revocation(first).id);

    const before = await count(pool, 'SELECT count(*)::int AS n FROM access.revocations');
    // EMS knows the case as the first employee's: the case check or the revocation's own refuses it, either way 409.
    const otherEmployee = await revoke({ resignationId, employeeId: other.id });
    expect(otherEmployee.status).toBe(409);
    const reusedKey = await revoke({ resignationId: randomUUID(), employeeId: other.id }, { 'idempotency-key': key });
    expect(reusedKey.status).toBe(409);
    expect(reusedKey.type).toContain('application/problem+json');
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.revocations')).toBe(before);
    expect(await noneRevoked(other.id)).toBe(true);
    expect((await revocationOf(resignationId))?.status).toBe('scheduled');
  });

  it('when 8 identical requests arrive at once, then one revocation is created and each grant is revoked once', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => revoke({ resignationId, employeeId: employee.id })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => revocation(a).id)).size).toBe(1);
    expect(await revokedAudits(employee.id)).toBe(grantsOf(employee.id).length);
  });
});

describe('the revocation timer', () => {
  it('when a revocation is scheduled for tomorrow, then nothing is revoked before then, and within a poll of the clock passing it every grant is', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const revokeAt = inFuture(DAY);
    const a = await revoke({ resignationId, employeeId: employee.id, revokeAt: revokeAt.toISOString() });
    expect(a.status).toBe(201);
    expect(revocation(a)).toMatchObject({ status: 'scheduled', revokeAt: revokeAt.toISOString(), revoked: [], doneAt: null });
    const [scheduled] = await waitEvent(resignationId, EventTypes.accessRevocationScheduled);
    expect(AccessRevocationScheduled.parse(scheduled!.data)).toEqual({ resignationId, employeeId: employee.id, revokeAt: revokeAt.toISOString(), revision: 1 });

    await timerPass();
    clock.advance(DAY - HOUR);
    await timerPass();
    expect((await revocationOf(resignationId))?.status).toBe('scheduled');
    expect(await noneRevoked(employee.id)).toBe(true);

    clock.advance(HOUR);
    const done = await waitDone(resignationId);
    expect(done.revoked).toEqual(everyGrant(employee.id));
    expect(await allRevoked(employee.id)).toBe(true);
    await waitEvent(resignationId, EventTypes.accessRevoked);
    await timerPass();
    await busIdle();
    expect(eventsAbout(resignationId, EventTypes.accessRevoked)).toHaveLength(1);
    expect(await revokedAudits(employee.id)).toBe(grantsOf(employee.id).length);
  });

  it('when a newer revision moves the revocation later, then it fires at the new instant, not the old; an older revision arriving late moves nothing', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const first = inFuture(DAY);
    const moved = inFuture(3 * DAY);
    expect((await revoke({ resignationId, employeeId: employee.id, revokeAt: first.toISOString(), revision: 1 })).status).toBe(201);
    const a = await revoke({ resignationId, employeeId: employee.id, revokeAt: moved.toISOString(), revision: 2 });
    expect(a.status).toBe(200);
    expect(revocation(a)).toMatchObject({ status: 'scheduled', revokeAt: moved.toISOString(), revision: 2 });
    const late = await revoke({ resignationId, employeeId: employee.id, revokeAt: first.toISOString(), revision: 1 });
    expect(revocation(late)).toMatchObject({ revokeAt: moved.toISOString(), revision: 2 });

    clock.advance(2 * DAY);
    await timerPass();
    expect((await revocationOf(resignationId))?.status).toBe('scheduled');
    expect(await noneRevoked(employee.id)).toBe(true);

    clock.advance(DAY + 1000);
    await waitDone(resignationId);
    expect(await allRevoked(employee.id)).toBe(true);
    const scheduled = eventsAbout(resignationId, EventTypes.accessRevocationScheduled).map((e) => AccessRevocationScheduled.parse(e.data));
    expect(scheduled.map((s) => [s.revision, s.revokeAt])).toEqual([
      [1, first.toISOString()],
      [2, moved.toISOString()],
    ]);
  });

  it('when a newer revision asks for now, then the scheduled revocation is revoked at once', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    expect((await revoke({ resignationId, employeeId: employee.id, revokeAt: inFuture(DAY).toISOString() })).status).toBe(201);
    const a = await revoke({ resignationId, employeeId: employee.id, revision: 2 });
    expect(a.status).toBe(200);
    expect(revocation(a)).toMatchObject({ status: 'done', revision: 2, revoked: everyGrant(employee.id) });
  });

  it('when two service instances poll the same database, then each due revocation is executed once', async () => {
    const second = await startInstance();
    try {
      const employees = [freshEmployee(), freshEmployee(), freshEmployee(), freshEmployee(), freshEmployee()];
      const resignations = employees.map(() => randomUUID());
      const at = inFuture(HOUR);
      for (const [i, e] of employees.entries()) {
        expect((await revoke({ resignationId: resignations[i], employeeId: e.id, revokeAt: at.toISOString() })).status).toBe(201);
      }
      clock.advance(HOUR);
      for (const r of resignations) await waitDone(r);
      await timerPass();
      await busIdle();
      for (const e of employees) expect(await revokedAudits(e.id)).toBe(grantsOf(e.id).length);
      for (const r of resignations) expect(eventsAbout(r, EventTypes.accessRevoked)).toHaveLength(1);
    } finally {
      await stopInstance(second);
    }
  });

  it('when a revocation cannot be executed, then it stays scheduled, is retried on every poll, and accessRevocationFailed is published once', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const r = revocation(await revoke({ resignationId, employeeId: employee.id, revokeAt: inFuture(HOUR).toISOString() }));
    // A grant row that cannot be revoked (as if the database refused it), until the trigger is dropped.
    await pool.query(`
      CREATE FUNCTION access.refuse_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.employee_id = '${employee.id}' AND NEW.status = 'revoked' THEN RAISE EXCEPTION 'grant store unavailable'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_revocation BEFORE UPDATE ON access.grants FOR EACH ROW EXECUTE FUNCTION access.refuse_revocation();`);
    try {
      clock.advance(HOUR);
      const [failed] = await waitEvent(resignationId, EventTypes.accessRevocationFailed);
      expect(AccessRevocationFailed.parse(failed!.data)).toEqual({ resignationId, reason: 'grant store unavailable', causationId: `revocation:${r.id}` });
      // Failures after the reported one, then everything they could have published delivered.
      await waitFor(async () => ((await count(pool, 'SELECT attempts AS n FROM access.revocations WHERE id = $1', [r.id])) > 3 ? true : undefined), 'failed attempts after the report');
      await busIdle();
      const { rows } = await pool.query<{ status: string; attempts: number }>('SELECT status, attempts FROM access.revocations WHERE id = $1', [r.id]);
      expect(rows[0]!.status).toBe('scheduled');
      expect(rows[0]!.attempts).toBeGreaterThan(3);
      expect(eventsAbout(resignationId, EventTypes.accessRevocationFailed)).toHaveLength(1);
      expect(await noneRevoked(employee.id)).toBe(true);
    } finally {
      await pool.query('DROP TRIGGER refuse_revocation ON access.grants; DROP FUNCTION access.refuse_revocation()');
    }
    await waitDone(resignationId);
    expect(await allRevoked(employee.id)).toBe(true);
  });
});

describe('access.schedule-revocation-when-exit-confirmed', () => {
  it('when exitConfirmed is published (twice on the wire), then one revocation is scheduled at revokeAt and one accessRevocationScheduled published on the case; it fires when the clock gets there', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const revokeAt = inFuture(2 * DAY);
    const event = exitConfirmedEvent(resignationId, employee, revokeAt);
    await publish(event);
    await publish(event);

    const [scheduled] = await waitEvent(resignationId, EventTypes.accessRevocationScheduled);
    expect(AccessRevocationScheduled.parse(scheduled!.data)).toEqual({ resignationId, employeeId: employee.id, revokeAt: revokeAt.toISOString(), revision: 1 });
    expect(scheduled).toMatchObject({ source: EventSources.access, correlationid: event.correlationid });
    expect(scheduled!.traceparent.split('-')[1]).toBe(event.traceparent.split('-')[1]);
    await busIdle();
    expect(eventsAbout(resignationId, EventTypes.accessRevocationScheduled)).toHaveLength(1);
    expect(await revocationOf(resignationId)).toMatchObject({ status: 'scheduled', revokeAt: revokeAt.toISOString(), revision: 1 });
    expect(await count(pool, 'SELECT count(*)::int AS n FROM access.processed_events WHERE subscriber = $1 AND event_id = $2', [SCHEDULE_REVOCATION_SUBSCRIBER, event.id])).toBe(1);

    clock.advance(2 * DAY);
    const [revoked] = await waitEvent(resignationId, EventTypes.accessRevoked);
    expect(AccessRevoked.parse(revoked!.data).revoked).toEqual(everyGrant(employee.id));
    expect(revoked).toMatchObject({ correlationid: event.correlationid });
    expect(await allRevoked(employee.id)).toBe(true);
    const audit = (await http.audit(`employeeId=${employee.id}`)).filter((e) => e.to === 'revoked');
    expect(new Set(audit.map((e) => e.reason))).toEqual(new Set([`exit confirmed (last working day ${revokeAt.toISOString().slice(0, 10)})`]));
  });

  it('when the last day moves (revision 2) and the old revision 1 arrives late, then the timer follows revision 2 only', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const first = inFuture(DAY);
    const moved = inFuture(3 * DAY);
    await publish(exitConfirmedEvent(resignationId, employee, first, 1));
    await waitEvent(resignationId, EventTypes.accessRevocationScheduled);
    await publish(exitConfirmedEvent(resignationId, employee, moved, 2));
    await waitEvent(resignationId, EventTypes.accessRevocationScheduled, 2);
    const stale = exitConfirmedEvent(resignationId, employee, inFuture(HOUR), 1);
    await publish(stale);
    await waitFor(async () => ((await count(pool, 'SELECT count(*)::int AS n FROM access.processed_events WHERE event_id = $1', [stale.id])) === 1 ? true : undefined), 'the stale revision to be handled');

    expect(await revocationOf(resignationId)).toMatchObject({ status: 'scheduled', revokeAt: moved.toISOString(), revision: 2 });
    clock.advance(2 * DAY);
    await timerPass();
    expect((await revocationOf(resignationId))?.status).toBe('scheduled');
    expect(await noneRevoked(employee.id)).toBe(true);

    clock.advance(DAY);
    await waitEvent(resignationId, EventTypes.accessRevoked);
    expect(await allRevoked(employee.id)).toBe(true);
    expect(eventsAbout(resignationId, EventTypes.accessRevocationScheduled).map((e) => AccessRevocationScheduled.parse(e.data).revision)).toEqual([1, 2]);
  });

  it('when exitConfirmed arrives after its revokeAt, then it is scheduled and the timer revokes at once', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    await publish(exitConfirmedEvent(resignationId, employee, inFuture(-DAY)));
    await waitEvent(resignationId, EventTypes.accessRevocationScheduled);
    await waitEvent(resignationId, EventTypes.accessRevoked);
    expect(await allRevoked(employee.id)).toBe(true);
  });

  it('when the employee is unknown to Access, then accessRevocationFailed names the event, and nothing is scheduled', async () => {
    const resignationId = randomUUID();
    const event = exitConfirmedEvent(resignationId, { id: 'E9999', name: 'Nobody Known', email: 'nobody@acme.example', timezone: 'UTC', hrPartnerId: 'HR1' }, inFuture(DAY));
    await publish(event);
    const [failed] = await waitEvent(resignationId, EventTypes.accessRevocationFailed);
    expect(AccessRevocationFailed.parse(failed!.data)).toMatchObject({ resignationId, causationId: event.id });
    expect(await revocationOf(resignationId)).toBeUndefined();
  });

  it('when scheduling finally fails, then the dead letter publishes accessRevocationFailed with the reason', async () => {
    const resignationId = randomUUID();
    const event = exitConfirmedEvent(resignationId, freshEmployee(), inFuture(DAY));
    await scheduleRevocation.onDeadLetter!(event, 'database unavailable');
    const [failed] = await waitEvent(resignationId, EventTypes.accessRevocationFailed);
    expect(AccessRevocationFailed.parse(failed!.data)).toEqual({ resignationId, reason: 'database unavailable', causationId: event.id });
    expect(failed).toMatchObject({ correlationid: event.correlationid });
  });
});

describe('restarts', () => {
  it('when no timer runs and a scheduled revocation is due, then a repeat request executes it at once', async () => {
    for (const instance of [...running]) await stopInstance(instance);
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const body = { resignationId, employeeId: employee.id, revokeAt: inFuture(HOUR).toISOString() };
    expect(revocation(await revoke(body)).status).toBe('scheduled');
    clock.advance(HOUR);
    const again = await revoke(body);
    expect(again.status).toBe(200);
    expect(revocation(again)).toMatchObject({ status: 'done', revision: 1, revoked: everyGrant(employee.id) });
    expect(await allRevoked(employee.id)).toBe(true);
  });

  it('when every process stops with a revocation pending and the clock passes it, then nothing fires until a new instance starts on the same database, which revokes within a poll', async () => {
    const employee = freshEmployee();
    const resignationId = randomUUID();
    const r = revocation(await revoke({ resignationId, employeeId: employee.id, revokeAt: inFuture(DAY).toISOString() }));
    expect(r.status).toBe('scheduled');
    for (const instance of [...running]) await stopInstance(instance);

    clock.advance(DAY + HOUR);
    await sleep(SEVERAL_POLLS_MS);
    expect((await revocationOf(resignationId))?.status).toBe('scheduled');
    expect(await noneRevoked(employee.id)).toBe(true);

    // A new process: its own pool and service instance, nothing shared but the database.
    const restartedPool = poolFor(testDb, 5);
    extraPools.push(restartedPool);
    await startInstance(restartedPool);
    const done = await waitDone(resignationId);
    expect(done.revoked).toEqual(everyGrant(employee.id));
    expect(await allRevoked(employee.id)).toBe(true);
  });
});

describe('reading revocations', () => {
  it('when revocations are listed by employee or status, then they page in creation order; an unknown id is 404, a malformed one 400', async () => {
    const employee = freshEmployee();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(revocation(await revoke({ resignationId: randomUUID(), employeeId: employee.id, revokeAt: inFuture(10 * DAY).toISOString() })).id);
    const page1 = access.RevocationList.parse((await http.call('GET', `${access.AccessPaths.revocations}?employeeId=${employee.id}&limit=2`)).body);
    expect(page1.items.map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(page1.nextOffset).toBe(2);
    const page2 = access.RevocationList.parse((await http.call('GET', `${access.AccessPaths.revocations}?employeeId=${employee.id}&limit=2&offset=2`)).body);
    expect(page2.items.map((r) => r.id)).toEqual(ids.slice(2));
    const scheduled = access.RevocationList.parse((await http.call('GET', `${access.AccessPaths.revocations}?employeeId=${employee.id}&status=scheduled`)).body);
    expect(scheduled.items).toHaveLength(3);
    const done = access.RevocationList.parse((await http.call('GET', `${access.AccessPaths.revocations}?employeeId=${employee.id}&status=done`)).body);
    expect(done.items).toEqual([]);

    expect((await http.call('GET', access.AccessPaths.revocation(randomUUID()))).status).toBe(404);
    expect((await http.call('GET', access.AccessPaths.revocation('nope'))).status).toBe(400);
    expect((await http.call('GET', `${access.AccessPaths.revocations}?status=maybe`)).status).toBe(400);
  });

  it('when the OpenAPI document is fetched, then it describes the revocation routes', async () => {
    const a = await http.call('GET', '/openapi.json');
    expect(a.status).toBe(200);
    const paths = Object.keys((a.body as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/access-revocations', '/api/access-revocations/{id}']));
  });
});
