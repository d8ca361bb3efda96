/**
 * HR's copy of the directory follows personChanged (real PostgreSQL): newer snapshots only, in any order, the
 * HR partner's calendar kept, an open case's follow-ups moved to the employee's HR partner of now.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { z } from 'zod';
import { createKysely, createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { EventSources, EventTypes, type DirectoryPerson, type PersonChanged } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import { demoOrg } from '@ems/demo-org';
import { HR_SCHEMA, type HrDB } from '../src/db/hr.db.ts';
import { migrations } from '../src/db/migrations.ts';
import { seedHr } from '../src/seed/seed.ts';
import { updateDirectoryWhenPersonChanged, NO_DEPARTMENT } from '../src/directory/update-directory-when-person-changed.ts';

type Person = z.infer<typeof DirectoryPerson>;

let db: TestDatabase;
let pool: Pool;
const org = demoOrg();
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase(inject('testServerUrl'), 'hrdirfollow');
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, HR_SCHEMA, migrations);
  await seedHr(createKysely<HrDB>(pool, HR_SCHEMA), org);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const follower = () => updateDirectoryWhenPersonChanged({ db: createKysely<HrDB>(pool, HR_SCHEMA), log });
const deliver = (person: Person, version: number) =>
  follower().handle(
    createEvent<z.infer<typeof PersonChanged>>({
      type: EventTypes.personChanged,
      source: EventSources.identity,
      subject: person.id,
      correlationId: 'test',
      data: { person, version, previous: null, origin: 'import', changedAt: new Date().toISOString() },
    }),
    { attempt: 1, lastAttempt: false },
  );
const record = (id: string, over: Partial<Person> = {}): Person => ({
  id, name: `Person ${id}`, email: `${id.toLowerCase()}@acme.example`, title: 'Engineer', department: 'Engineering', location: 'Berlin', timezone: 'Europe/Berlin',
  workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, managerId: null, hrPartnerId: 'hrp-berlin', roles: [], active: true, ...over,
});
const one = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0] as T;

describe("HR's copy of the directory", () => {
  it('when an employee arrives before their new HR partner and manager, then they are filed as soon as both are known', async () => {
    await deliver(record('F-E1', { managerId: 'F-M1', hrPartnerId: 'F-P1', department: 'Field Research' }), 1);
    expect(await one('SELECT count(*)::int AS n FROM hr.employees WHERE id = $1', ['F-E1'])).toEqual({ n: 0 });

    await deliver(record('F-P1', { hrPartnerId: null, timezone: 'Asia/Singapore', workingHours: { days: [1, 2, 3, 4, 5], start: '10:00', end: '18:00' } }), 1);
    expect(await one('SELECT id, timezone, work_start, lead_id FROM hr.hr_partners WHERE id = $1', ['F-P1'])).toEqual({ id: 'F-P1', timezone: 'Asia/Singapore', work_start: '10:00', lead_id: org.hrLead.id });
    expect(await one('SELECT e.hr_partner_id, e.manager_id, d.name AS department FROM hr.employees e JOIN hr.departments d ON d.id = e.department_id WHERE e.id = $1', ['F-E1'])).toEqual({
      hr_partner_id: 'F-P1',
      manager_id: null,
      department: 'Field Research',
    });

    await deliver(record('F-M1', { hrPartnerId: 'F-P1', department: null }), 1);
    expect(await one('SELECT manager_id FROM hr.employees WHERE id = $1', ['F-E1'])).toEqual({ manager_id: 'F-M1' });
    expect(await one('SELECT d.name FROM hr.employees e JOIN hr.departments d ON d.id = e.department_id WHERE e.id = $1', ['F-M1'])).toEqual({ name: NO_DEPARTMENT });
  });

  it('when an older or repeated snapshot arrives after a newer one, then it changes nothing', async () => {
    const e = org.employees[7]!;
    await deliver(record(e.id, { name: 'Newer Name', email: e.email, hrPartnerId: e.hrPartnerId }), 3);
    await deliver(record(e.id, { name: 'Older Name', email: e.email, hrPartnerId: e.hrPartnerId }), 2);
    await deliver(record(e.id, { name: 'Same Version', email: e.email, hrPartnerId: e.hrPartnerId }), 3);
    expect(await one('SELECT name FROM hr.employees WHERE id = $1', [e.id])).toEqual({ name: 'Newer Name' });
  });

  it("when an HR partner's record changes, then HR takes the new hours and keeps their calendar and HR lead", async () => {
    const before = await one<{ n: number }>(`SELECT count(*)::int AS n FROM hr.recurring_busy WHERE hr_partner_id = 'hrp-newyork'`);
    const p = org.hrPartners.find((x) => x.id === 'hrp-newyork')!;
    await deliver(record(p.id, { name: 'Marcus Bell-Ortiz', email: p.email, hrPartnerId: null, timezone: p.timezone, workingHours: { days: [1, 2, 3, 4], start: '08:00', end: '16:00' } }), 2);
    expect(await one('SELECT name, work_days, work_end, lead_id FROM hr.hr_partners WHERE id = $1', [p.id])).toEqual({ name: 'Marcus Bell-Ortiz', work_days: [1, 2, 3, 4], work_end: '16:00', lead_id: org.hrLead.id });
    expect(await one(`SELECT count(*)::int AS n FROM hr.recurring_busy WHERE hr_partner_id = 'hrp-newyork'`)).toEqual(before);
  });

  it("when an employee with an open case gets another HR partner, then the case's follow-ups go to the new one; a decided case keeps its own; leaving marks them left", async () => {
    const e = org.employees.find((x) => x.hrPartnerId === 'hrp-berlin' && x.managerId)!;
    const open = randomUUID();
    const decided = randomUUID();
    await pool.query(`INSERT INTO hr.exit_cases (resignation_id, employee_id, hr_partner_id, submitted_at) VALUES ($1, $2, 'hrp-berlin', now())`, [open, e.id]);
    await pool.query(`INSERT INTO hr.exit_cases (resignation_id, employee_id, hr_partner_id, submitted_at, decision, decided_at) VALUES ($1, $2, 'hrp-berlin', now(), 'retained', now())`, [decided, e.id]);
    const person = record(e.id, { name: e.name, email: e.email, managerId: e.managerId, hrPartnerId: 'hrp-singapore', timezone: e.timezone });
    await deliver(person, 2);
    expect(await one('SELECT hr_partner_id FROM hr.exit_cases WHERE resignation_id = $1', [open])).toEqual({ hr_partner_id: 'hrp-singapore' });
    expect(await one('SELECT hr_partner_id FROM hr.exit_cases WHERE resignation_id = $1', [decided])).toEqual({ hr_partner_id: 'hrp-berlin' });
    await deliver({ ...person, active: false }, 3);
    expect(await one('SELECT status, hr_partner_id FROM hr.employees WHERE id = $1', [e.id])).toEqual({ status: 'left', hr_partner_id: 'hrp-singapore' });
  });
  it("when the directory takes the hr_lead role away, or deactivates the HR lead, then HR no longer escalates to them: their HR partners go to the HR lead left", async () => {
    const leadOf = async () => one<{ lead_id: string | null }>(`SELECT lead_id FROM hr.hr_partners WHERE id = 'hrp-berlin'`);
    const isLead = async () => one<{ n: number }>(`SELECT count(*)::int AS n FROM hr.hr_leads WHERE id = 'F-L2'`);
    await deliver(record('F-L2', { name: 'Second Lead', hrPartnerId: null, roles: ['hr_lead'] }), 1);
    expect(await isLead()).toEqual({ n: 1 });
    await pool.query(`UPDATE hr.hr_partners SET lead_id = 'F-L2' WHERE id = 'hrp-berlin'`);

    await deliver(record('F-L2', { name: 'Second Lead', hrPartnerId: null, roles: [] }), 2);
    expect(await isLead()).toEqual({ n: 0 });
    expect(await leadOf()).toEqual({ lead_id: org.hrLead.id });

    await deliver(record('F-L2', { name: 'Second Lead', hrPartnerId: null, roles: ['hr_lead'] }), 3);
    await pool.query(`UPDATE hr.hr_partners SET lead_id = 'F-L2' WHERE id = 'hrp-berlin'`);
    await deliver(record('F-L2', { name: 'Second Lead', hrPartnerId: null, roles: ['hr_lead'], active: false }), 4);
    expect(await isLead()).toEqual({ n: 0 });
    expect(await leadOf()).toEqual({ lead_id: org.hrLead.id });
  });
});
