/**
 * EMS's roster follows personChanged with several deliveries at once (the bus runs a subscriber's handlers
 * concurrently): an employee's new manager and the manager's own first snapshot, handled at the same time, still
 * leave the case naming the new manager — whom its next messages go to. Real EMS, real PostgreSQL, read over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createKysely } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import type { ems } from '@ems/contracts';
import type { EventData, EventTypes } from '@ems/contracts/events';
import { updateRoster } from '../packages/ems/src/directory/update-roster.ts';
import type { EmsDb } from '../packages/ems/src/db/types.ts';
import { http, startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const employee = org.employees.find((e) => e.managerId !== null && !org.employees.some((x) => x.managerId === e.id) && !admins.has(e.id))!;

let env: AcceptanceEnv;
beforeAll(async () => {
  env = await startAcceptanceEms('orchestration', 'roster_concurrent');
}, 120_000);
afterAll(async () => {
  await env?.ems.pool.query('DROP TRIGGER IF EXISTS r2_slow_timeline ON ems.timeline').catch(() => undefined);
  await env?.stop();
});

const snapshot = (e: Pick<Employee, 'id' | 'name' | 'email' | 'timezone'>, version: number, managerId: string | null, hrPartnerId: string | null): EventData<typeof EventTypes.personChanged> => ({
  person: {
    id: e.id, name: e.name, email: e.email, title: null, department: null, location: null, timezone: e.timezone,
    workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, managerId, hrPartnerId, roles: [], active: true,
  },
  version,
  previous: null,
  origin: 'import',
  changedAt: new Date().toISOString(),
});

describe("the roster under concurrent directory changes", () => {
  it("when an employee's new manager and the manager's own first snapshot are handled at once, then the case names the new manager with the address its next messages go to", async () => {
    const created = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const db = createKysely<EmsDb>(env.ems.pool, 'ems');
    const newManager = { id: 'R2-NEW-MANAGER', name: 'Noor Haddad', email: 'noor.haddad@example.com', timezone: 'Europe/Berlin' };

    // Hold the employee's handler inside its transaction (after it has looked up the manager, before it commits),
    // so the manager's snapshot is handled meanwhile.
    await env.ems.pool.query(`
      CREATE OR REPLACE FUNCTION ems.r2_slow_timeline() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$;
      CREATE TRIGGER r2_slow_timeline BEFORE INSERT ON ems.timeline FOR EACH ROW WHEN (NEW.type = 'responsible.manager-changed') EXECUTE FUNCTION ems.r2_slow_timeline();`);
    const employeeChange = updateRoster(db, snapshot(employee, 50, newManager.id, employee.hrPartnerId));
    await waitFor(async () => ((await env.ems.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'`)).rowCount ? true : undefined), 'the employee handler inside its transaction', 10_000, 20);
    const managerChange = updateRoster(db, snapshot(newManager, 1, null, null));
    expect(await Promise.all([employeeChange, managerChange])).toEqual(['applied', 'applied']);
    await env.ems.pool.query('DROP TRIGGER r2_slow_timeline ON ems.timeline');

    const c = (await http<ems.Resignation>(env.base, 'GET', `/api/resignations/${id}`)).body;
    expect(c.responsible.manager).toEqual({ id: newManager.id, name: newManager.name });
    const stored = (await env.ems.pool.query<{ email: string | null }>(`SELECT responsible->'manager'->>'email' AS email FROM ems.resignations WHERE id = $1`, [id])).rows[0];
    expect(stored).toEqual({ email: newManager.email });
  });
});
