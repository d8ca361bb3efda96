import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, type Clock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import type { Employee } from '@ems/demo-org';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { EventTypes } from '@ems/contracts/events';
import { ACCESS_SCHEMA, type AccessDB } from '../src/db/access.db.ts';
import { suspendAccessTogetherInTransaction, type HoldAsk } from '../src/suspend-access/suspend-access.ts';
import { createHoldsTogether } from '../src/suspend-access/holds-together.ts';
import { toHoldView } from '../src/read-holds/hold.view.ts';
import { byEvent } from '../src/audit/actor.ts';
import { bootAccess, count, criticalGrantsOf, employeePicker, log, poolFor } from './support.ts';

/**
 * Holds asked for at the same time, written together (holds-together.ts): each request answered as if
 * it had come alone, in fewer transactions. Real PostgreSQL; the requests go straight to the use case
 * (the HTTP route only adds its checks, which access-holds.test covers).
 */
describe('holds written together', () => {
  let testDb: TestDatabase;
  let pool: Pool;
  let bus: RecordingBus;
  const freshEmployee = employeePicker();
  /** A clock that counts its readings: one per transaction of holds. */
  let readings = 0;
  const clock: Clock = {
    now: () => {
      readings++;
      return new Date(Date.UTC(2026, 0, 1) + readings * 1000);
    },
  };
  const db = () => createKysely<AccessDB>(pool, ACCESS_SCHEMA);
  const ask = (employee: Pick<Employee, 'id'>, over: Partial<HoldAsk['request']> & { idempotencyKey?: string } = {}): HoldAsk => {
    const { idempotencyKey, ...request } = over;
    return { request: { resignationId: randomUUID(), employeeId: employee.id, ...request }, idempotencyKey, trace: {}, by: byEvent(null) };
  };
  /** Each employee's grants suspended in the name of `holdId`, sorted. */
  const suspendedBy = async (holdId: string) =>
    (await pool.query<{ id: string }>(`SELECT id FROM access.grants WHERE suspended_by_hold = $1 AND status = 'suspended' ORDER BY id`, [holdId])).rows.map((r) => r.id);

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'accesstogether');
    pool = poolFor(testDb, 12);
    bus = await createRecordingBus(pool);
    await bootAccess(pool, { bus });
  });
  afterAll(async () => {
    await pool?.end();
    await testDb?.drop();
  });

  it('when 20 holds are asked for at once, then two go at once, the other 18 wait and are written in one transaction, and each answer is its hold as read back', async () => {
    const employees = Array.from({ length: 20 }, () => freshEmployee());
    const holds = createHoldsTogether({ db: db(), clock, log, bus });
    readings = 0;
    const answers = await Promise.all(employees.map((e) => holds(ask(e))));

    expect(readings, 'transactions').toBe(3);
    const instants = answers.map((a) => a.hold.createdAt);
    expect(new Set(instants).size).toBe(3);
    expect(instants.filter((t) => t === instants[19]).length, 'written together with the last').toBe(18);
    for (const [i, { hold, created }] of answers.entries()) {
      expect(created).toBe(true);
      expect(hold.employeeId).toBe(employees[i]!.id);
      expect(hold.suspendedGrants.map((g) => g.grantId).sort()).toEqual(criticalGrantsOf(employees[i]!.id));
      expect(await suspendedBy(hold.id)).toEqual(criticalGrantsOf(employees[i]!.id));
      const row = await db().selectFrom('holds').selectAll().where('id', '=', hold.id).executeTakeFirstOrThrow();
      expect(hold).toEqual(await toHoldView(db(), row));
    }
    // Each hold's event and audit rows, once.
    const events = (await bus.published(EventTypes.criticalAccessSuspended)).filter((e) => employees.some((x) => x.id === (e.data as { employeeId: string }).employeeId));
    expect(events.map((e) => e.subject).sort()).toEqual(answers.map((a) => a.hold.resignationId).sort());
    const audited = await count(pool, `SELECT count(*)::int AS n FROM access.audit WHERE hold_id = ANY($1::uuid[])`, [answers.map((a) => a.hold.id)]);
    expect(audited).toBe(employees.reduce((n, e) => n + criticalGrantsOf(e.id).length, 0));
  });

  it('when one transaction holds a repeat, an unknown employee, a key reused for another resignation and the same resignation twice, then each is answered as it would be alone', async () => {
    const [a, b, c] = [freshEmployee(), freshEmployee(), freshEmployee()];
    // c's hold exists before: asking again is a repeat.
    const before = await db().transaction().execute((trx) => suspendAccessTogetherInTransaction(trx, { clock, bus }, [ask(c)]));
    const earlier = before[0]!;
    if ('refused' in earlier) throw new Error('expected a hold');

    const first = ask(a, { idempotencyKey: `k-${randomUUID()}` });
    const asks = [
      first,
      { ...first }, // the same resignation and key: a repeat of the first
      ask({ id: 'NOBODY' }),
      ask(b, { idempotencyKey: first.idempotencyKey }), // the first's key, for another resignation
      ask(c, { resignationId: earlier.hold.resignationId }),
    ];
    const outcomes = await db().transaction().execute((trx) => suspendAccessTogetherInTransaction(trx, { clock, bus }, asks));

    const [o1, o2, o3, o4, o5] = outcomes;
    if (!o1 || 'refused' in o1) throw new Error('expected the first hold');
    expect(o1.created).toBe(true);
    expect(o2).toEqual({ hold: o1.hold, created: false });
    expect(o3 && 'refused' in o3 && o3.refused.status).toBe(404);
    expect(o4 && 'refused' in o4 && o4.refused.status).toBe(409);
    expect(o4 && 'refused' in o4 && o4.refused.message).toContain(first.request.resignationId);
    expect(o5).toEqual({ hold: earlier.hold, created: false });
    // Nothing written for the refused ones.
    expect(await count(pool, `SELECT count(*)::int AS n FROM access.holds WHERE employee_id = $1`, [b.id])).toBe(0);
    expect(await count(pool, `SELECT count(*)::int AS n FROM access.holds WHERE employee_id = $1`, [a.id])).toBe(1);
  });

  it('when the database refuses one request of a transaction, then the others are written and only that one fails, with nothing of it left', async () => {
    const employees = Array.from({ length: 6 }, () => freshEmployee());
    const poisoned = employees[4]!;
    await pool.query(`CREATE FUNCTION access.refuse_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hold refused by the test for %', NEW.employee_id; END $$`);
    await pool.query(`CREATE TRIGGER refuse_hold BEFORE INSERT ON access.holds FOR EACH ROW WHEN (NEW.employee_id = '${poisoned.id}') EXECUTE FUNCTION access.refuse_hold()`);
    try {
      const holds = createHoldsTogether({ db: db(), clock, log, bus });
      readings = 0;
      const answers = await Promise.allSettled(employees.map((e) => holds(ask(e))));

      // Two alone, then four together (refused as a whole), then each of the four alone.
      expect(readings, 'transactions').toBe(2 + 1 + 4);
      for (const [i, a] of answers.entries()) {
        if (employees[i] === poisoned) {
          expect(a.status).toBe('rejected');
          expect(String((a as PromiseRejectedResult).reason)).toContain(`hold refused by the test for ${poisoned.id}`);
          continue;
        }
        expect(a.status).toBe('fulfilled');
        const { hold } = (a as PromiseFulfilledResult<Awaited<ReturnType<typeof holds>>>).value;
        expect(await suspendedBy(hold.id)).toEqual(criticalGrantsOf(employees[i]!.id));
      }
      expect(await count(pool, `SELECT count(*)::int AS n FROM access.holds WHERE employee_id = $1`, [poisoned.id])).toBe(0);
      expect(await count(pool, `SELECT count(*)::int AS n FROM access.grants WHERE employee_id = $1 AND status <> 'active'`, [poisoned.id])).toBe(0);
      expect(await count(pool, `SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1`, [poisoned.id])).toBe(0);
    } finally {
      await pool.query(`DROP TRIGGER refuse_hold ON access.holds; DROP FUNCTION access.refuse_hold()`);
    }
  });
});
