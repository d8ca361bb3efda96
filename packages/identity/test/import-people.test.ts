/**
 * The directory's CSV import on a real PostgreSQL: all or nothing, every error by row and column, a dry run
 * that changes nothing, a re-import that is a no-op, one personChanged per changed person (committed with it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createKysely, createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { EventTypes, PersonChanged } from '@ems/contracts/events';
import { demoOrg } from '@ems/demo-org';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { IDENTITY_SCHEMA, type IdentityDB } from '../src/db/identity.db.ts';
import { migrations } from '../src/db/migrations.ts';
import { seedDirectory } from '../src/directory/directory.ts';
import { getDirectoryPerson, listDirectoryPeople } from '../src/directory/apply-people.ts';
import { importPeople } from '../src/import-people/import-people.ts';
import { REQUIRED_COLUMNS } from '../src/import-people/people-csv.ts';

let db: TestDatabase;
let pool: Pool;
let bus: RecordingBus;
const log = createLogger({ level: 'silent' });
const org = demoOrg();

beforeAll(async () => {
  db = await createTestDatabase(inject('testServerUrl'), 'identityimport');
  pool = createPool(db.url, { max: 4 });
  await migrate(pool, IDENTITY_SCHEMA, migrations);
  bus = await createRecordingBus(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const kysely = () => createKysely<IdentityDB>(pool, IDENTITY_SCHEMA);
const ctx = () => ({ db: kysely(), clock: systemClock, bus, log });
const run = (csv: string, options: { dryRun?: boolean; deactivateMissing?: boolean; by?: string } = {}) =>
  importPeople(ctx(), csv, { dryRun: options.dryRun ?? false, deactivateMissing: options.deactivateMissing ?? false }, options.by ?? 'someone-outside');
const snapshot = async () => JSON.stringify((await listDirectoryPeople(kysely(), { startIndex: 1, count: 100_000 })).items);
const personEvents = async () => (await bus.published(EventTypes.personChanged)).map((e) => PersonChanged.parse(e.data));

const HEADER = REQUIRED_COLUMNS.join(',');
const rows = {
  partner: 'P1,Helga Richter,helga@new.example,HR Partner,,,People,Berlin,Europe/Berlin,Mon-Fri,09:00,17:00',
  boss: 'B1,Grace Hopper,grace@new.example,CTO,,P1,Engineering,New York,America/New_York,Mon-Fri,08:30,17:00',
  ada: 'A1,Ada Lovelace,ada@new.example,Engineer,B1,P1,Engineering,London,Europe/London,Mon-Fri,09:00,17:30',
};
const file = (...lines: string[]) => `${HEADER}\r\n${lines.join('\r\n')}\r\n`;

beforeEach(async () => {
  await pool.query('TRUNCATE identity.people CASCADE');
  await pool.query('TRUNCATE public.recorded_events');
  await seedDirectory(kysely(), org);
});

describe('importing people from CSV', () => {
  it('when the file is valid, then everyone is in the directory at version 1, with one personChanged each, HR partners and managers first', async () => {
    const outcome = await run(file(rows.ada, rows.boss, rows.partner));
    expect(outcome).toMatchObject({ ok: true, report: { rows: 3, created: [{ id: 'A1' }, { id: 'B1' }, { id: 'P1' }], updated: [], unchanged: [], deactivated: [] } });
    const ada = await getDirectoryPerson(kysely(), 'A1');
    expect(ada).toMatchObject({
      version: 1,
      userName: 'ada@new.example',
      person: { managerId: 'B1', hrPartnerId: 'P1', timezone: 'Europe/London', workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' }, department: 'Engineering', active: true },
    });
    const events = await personEvents();
    expect(events.map((e) => [e.person.id, e.version, e.previous, e.origin])).toEqual([
      ['P1', 1, null, 'import'],
      ['B1', 1, null, 'import'],
      ['A1', 1, null, 'import'],
    ]);
    // Derived: the person named as an HR partner is one.
    expect((await pool.query(`SELECT kind FROM identity.people WHERE id = 'P1'`)).rows[0]).toEqual({ kind: 'hr_partner' });
  });

  it('when one row is bad, then nothing is imported, no event is published, and every error is listed by row and column', async () => {
    const before = await snapshot();
    const outcome = await run(file(rows.partner, rows.boss, 'A1,Ada,ada@new.example,,NOBODY,P1,,,Europe/Nowhere,Mon-Fri,09:00,17:00', 'A2,Al,grace@new.example,,B1,P1,,,UTC,Mon-Fri,09:00,17:00'));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.errors).toEqual([{ row: 4, column: 'timezone', message: expect.stringContaining('Europe/Nowhere') as string }]);
    // The file's own errors fixed, the organisation's show: an unknown manager, an email someone else has.
    const second = await run(file(rows.partner, rows.boss, 'A1,Ada,ada@new.example,,NOBODY,P1,,,UTC,Mon-Fri,09:00,17:00', 'A2,Al,grace@new.example,,B1,P1,,,UTC,Mon-Fri,09:00,17:00'));
    expect(!second.ok && second.errors.map((e) => [e.row, e.column])).toEqual([
      [4, 'manager_id'],
      [3, 'email'],
      [5, 'email'],
    ]);
    expect(await snapshot()).toBe(before);
    expect(await personEvents()).toEqual([]);
  });

  it('when the same file is imported again, then nothing changes: no version, no event', async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    const before = await snapshot();
    const again = await run(file(rows.ada, rows.partner, rows.boss));
    expect(again).toMatchObject({ ok: true, report: { created: [], updated: [], unchanged: ['A1', 'B1', 'P1'] } });
    expect(await snapshot()).toBe(before);
    expect(await personEvents()).toHaveLength(3);
  });

  it('when a dry run is asked, then it answers what would change, field by field, and changes nothing', async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    const before = await snapshot();
    const moved = rows.ada.replace('Engineer,B1,P1', 'Senior Engineer,P1,P1').replace('Mon-Fri,09:00', 'Mon-Thu,09:00');
    const dry = await run(file(rows.partner, rows.boss, moved), { dryRun: true });
    expect(dry).toMatchObject({
      ok: true,
      report: {
        dryRun: true,
        updated: [{ id: 'A1', changes: [{ column: 'title', from: 'Engineer', to: 'Senior Engineer' }, { column: 'manager_id', from: 'B1', to: 'P1' }, { column: 'working_days', from: 'Mon-Fri', to: 'Mon-Thu' }] }],
        unchanged: ['B1', 'P1'],
      },
    });
    expect(await snapshot()).toBe(before);
    expect(await personEvents()).toHaveLength(3);
  });

  it("when someone's manager changes, then exactly one personChanged says so, with the previous manager and a new version", async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    const outcome = await run(file(rows.partner, rows.boss, rows.ada.replace('Engineer,B1,P1', 'Engineer,P1,P1')));
    expect(outcome).toMatchObject({ ok: true, report: { updated: [{ id: 'A1', changes: [{ column: 'manager_id', from: 'B1', to: 'P1' }] }] } });
    const events = (await personEvents()).slice(3);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ person: { id: 'A1', managerId: 'P1' }, version: 2, previous: { managerId: 'B1', hrPartnerId: 'P1', active: true }, origin: 'import' });
    expect((await getDirectoryPerson(kysely(), 'A1'))?.version).toBe(2);
  });

  it('when a full export leaves people out (--deactivate-missing), then they become inactive and can no longer sign in', async () => {
    const outcome = await run(file(rows.partner, rows.boss, rows.ada), { deactivateMissing: true });
    expect(outcome.ok).toBe(true);
    const everyoneElse = org.employees.length + org.hrPartners.length + 1;
    expect(outcome.ok && outcome.report.deactivated).toHaveLength(everyoneElse);
    const e = await getDirectoryPerson(kysely(), org.employees[5]!.id);
    expect(e).toMatchObject({ version: 2, person: { active: false } });
    const signIn = await pool.query(`SELECT count(*)::int AS n FROM identity.people WHERE active`);
    expect(signIn.rows[0]).toEqual({ n: 3 });
  });

  it('when a full export would deactivate the person importing it, then it is refused and nothing changes', async () => {
    const before = await snapshot();
    const lockout = await run(file(rows.partner, rows.boss, rows.ada), { deactivateMissing: true, by: org.hrLead.id });
    expect(!lockout.ok && lockout.errors).toEqual([{ row: 1, column: null, message: expect.stringContaining(`deactivate ${org.hrLead.id}`) as string }]);
    const dry = await run(file(rows.partner, rows.boss, rows.ada), { deactivateMissing: true, dryRun: true, by: org.hrLead.id });
    expect(dry.ok).toBe(false);
    expect(await snapshot()).toBe(before);
    expect(await personEvents()).toEqual([]);
  });

  it('when the roles column is given, then administrative roles follow it; without it they stay', async () => {
    const header = `${HEADER},roles`;
    // An operator's import (only an operator gives or takes the operator role).
    const by = org.roleAssignments.find((a) => a.role === 'operator')!.personId;
    await run(`${header}\r\n${rows.partner},hr_lead;operator\r\n`, { by });
    expect((await getDirectoryPerson(kysely(), 'P1'))?.person.roles).toEqual(['hr_lead', 'operator']);
    await run(file(rows.partner), { by });
    expect((await getDirectoryPerson(kysely(), 'P1'))?.person.roles).toEqual(['hr_lead', 'operator']);
    await run(`${header}\r\n${rows.partner},\r\n`, { by });
    expect((await getDirectoryPerson(kysely(), 'P1'))?.person.roles).toEqual([]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM identity.role_assignments WHERE person_id = 'P1'`)).rows[0]).toEqual({ n: 0 });
  });

  it('when HR partners are named and no longer named, then their kind follows: the one left is an employee, the one named an HR partner, an HR lead by role', async () => {
    const kindOf = async (id: string) => (await pool.query<{ kind: string }>('SELECT kind FROM identity.people WHERE id = $1', [id])).rows[0]?.kind;
    const withRoles = (line: string, roles: string) => `${line},${roles}`;
    const roleFile = (...lines: string[]) => `${HEADER},roles\r\n${lines.join('\r\n')}\r\n`;
    const other = 'P2,Omar Haddad,omar@new.example,HR Partner,,,People,Dubai,Asia/Dubai,Sun-Thu,08:00,16:00';
    expect(await run(roleFile(withRoles(rows.partner, ''), withRoles(other, 'hr_lead'), withRoles(rows.boss, ''), withRoles(rows.ada, '')))).toMatchObject({ ok: true });
    expect([await kindOf('P1'), await kindOf('P2'), await kindOf('B1')]).toEqual(['hr_partner', 'hr_lead', 'employee']);
    const moved = (line: string) => line.replace(',P1,', ',P2,');
    expect(await run(roleFile(withRoles(rows.partner, ''), withRoles(other, 'hr_lead'), withRoles(moved(rows.boss), ''), withRoles(moved(rows.ada), '')))).toMatchObject({ ok: true });
    expect([await kindOf('P1'), await kindOf('P2'), await kindOf('B1')]).toEqual(['employee', 'hr_partner', 'employee']);
  });

  it('when an HR lead gives or takes the operator or access_admin role, then it is refused by row; an operator may, and the HR lead may give hr_lead', async () => {
    const hrLead = org.roleAssignments.find((a) => a.role === 'hr_lead')!.personId;
    const operator = org.roleAssignments.find((a) => a.role === 'operator')!.personId;
    const header = `${HEADER},roles`;
    const before = await snapshot();
    const refused = await run(`${header}\r\n${rows.partner},operator\r\n`, { by: hrLead });
    expect(refused).toEqual({ ok: false, errors: [{ row: 2, column: 'roles', message: expect.stringMatching(/only an operator may give or take the operator and access_admin roles \(P1\)/) as string }] });
    expect(await snapshot()).toBe(before);
    expect(await run(`${header}\r\n${rows.partner},hr_lead\r\n`, { by: hrLead })).toMatchObject({ ok: true });
    expect(await run(`${header}\r\n${rows.partner},hr_lead;operator\r\n`, { by: operator })).toMatchObject({ ok: true });
    expect((await getDirectoryPerson(kysely(), 'P1'))?.person.roles).toEqual(['hr_lead', 'operator']);
    // Taking it away again is the operator's too.
    expect(await run(`${header}\r\n${rows.partner},hr_lead\r\n`, { by: hrLead })).toMatchObject({ ok: false });
  });

  it('when two people swap emails in one file, then both are imported (each email stays unique)', async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    const swapped = await run(file(rows.boss.replace('grace@new.example', 'ada@new.example'), rows.ada.replace('ada@new.example', 'grace@new.example')));
    expect(swapped).toMatchObject({ ok: true, report: { updated: [{ id: 'A1', changes: [{ column: 'email' }] }, { id: 'B1', changes: [{ column: 'email' }] }] } });
    // Their userNames were their emails (the default): they follow.
    expect((await getDirectoryPerson(kysely(), 'A1'))?.userName).toBe('grace@new.example');
    expect((await getDirectoryPerson(kysely(), 'B1'))?.person.email).toBe('ada@new.example');
    expect((await getDirectoryPerson(kysely(), 'B1'))?.userName).toBe('ada@new.example');
  });

  it("when someone's email changes, then their default userName follows it and the old address can be given to a newcomer", async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    await run(file(rows.ada.replace('ada@new.example', 'ada.lovelace@new.example')));
    expect((await getDirectoryPerson(kysely(), 'A1'))?.userName).toBe('ada.lovelace@new.example');
    const newcomer = await run(file('A2,Ada Byron,ada@new.example,Engineer,B1,P1,Engineering,London,Europe/London,Mon-Fri,09:00,17:30'));
    expect(newcomer).toMatchObject({ ok: true, report: { created: [{ id: 'A2' }] } });
    expect((await getDirectoryPerson(kysely(), 'A2'))?.userName).toBe('ada@new.example');
  });

  it('when a userName was named apart from the email (by SCIM), then an email change leaves it as it is', async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    await pool.query(`UPDATE identity.people SET user_name = 'alovelace' WHERE id = 'A1'`);
    await run(file(rows.ada.replace('ada@new.example', 'ada.lovelace@new.example')));
    expect((await getDirectoryPerson(kysely(), 'A1'))?.userName).toBe('alovelace');
  });

  it('when a batch closes a manager cycle with people already in the directory, then it is refused on the row that closes it', async () => {
    await run(file(rows.partner, rows.boss, rows.ada));
    const outcome = await run(file(rows.boss.replace('CTO,,P1', 'CTO,A1,P1')));
    expect(!outcome.ok && outcome.errors).toEqual([{ row: 2, column: 'manager_id', message: expect.stringMatching(/loops/) as string }]);
  });
});
