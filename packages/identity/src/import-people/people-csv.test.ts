import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DirectoryPerson as DirectoryPersonSchema } from '@ems/contracts/events';
import { parseCsv, writeCsv } from './csv.ts';
import { formatWorkingDays, parseWorkingDays, readPeopleFile, writePeopleFile, REQUIRED_COLUMNS } from './people-csv.ts';
import { normalizePerson, planPeople, type CurrentPerson, type DirectoryPerson } from '../directory/plan-people.ts';

const HEADER = REQUIRED_COLUMNS.join(',');
const ada = 'E1,Ada Lovelace,ada@acme.example,Engineer,,P1,Engineering,London,Europe/London,Mon-Fri,09:00,17:00';
const partner = 'P1,Helga Richter,helga@acme.example,HR Partner,,,People,Berlin,Europe/Berlin,Mon-Fri,09:00,17:00';

describe('CSV (RFC 4180)', () => {
  it('when fields are quoted with commas, doubled quotes and line breaks, CRLF or LF, after a BOM, then each reads back as written', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","two\r\nlines"\n1,,3\r\n';
    const parsed = parseCsv(text);
    expect(parsed).toEqual({
      ok: true,
      records: [
        { row: 1, fields: ['a', 'b', 'c'] },
        { row: 2, fields: ['x, y', 'say "hi"', 'two\r\nlines'] },
        { row: 3, fields: ['1', '', '3'] },
      ],
    });
  });

  it('when the file has blank lines or no final line break, then they make no record, and rows keep the numbers a spreadsheet shows', () => {
    expect(parseCsv('a,b\r\n\r\n1,2')).toEqual({ ok: true, records: [{ row: 1, fields: ['a', 'b'] }, { row: 3, fields: ['1', '2'] }] });
    expect(parseCsv('a\n\n\n"x\ny"\nz\n\n"open')).toEqual({ ok: false, row: 7, message: expect.stringContaining('not closed') as string });
  });

  it('when cells hold terminal escapes or are huge, then an error quotes them escaped and cut short (the CLI prints them)', () => {
    const evil = `\u001b]0;owned\u0007\u001b[2J${'x'.repeat(100_000)}`;
    const row = (tz: string, days: string, start: string) => `E1,Ada,ada@acme.example,,,,,,${tz},${days},${start},17:00,${evil}`;
    const file = readPeopleFile(`${HEADER},roles,${evil}\r\n${row(evil, evil, evil)}\r\n`);
    expect(file.ok).toBe(false);
    const errors = file.ok ? [] : file.errors;
    expect(errors.map((e) => e.column)).toContain(`\\u001b]0;owned\\u0007\\u001b[2J${'x'.repeat(46)}…`);
    for (const e of errors) {
      expect(e.message.length).toBeLessThan(300);
      expect(`${e.column ?? ''}${e.message}`).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    const cells = readPeopleFile(`${HEADER},roles,active\r\n${row(evil, evil, evil)},${evil}\r\n`);
    const cellErrors = cells.ok ? [] : cells.errors;
    expect(cellErrors.map((e) => e.column)).toEqual(expect.arrayContaining(['timezone', 'working_days', 'work_start', 'roles', 'active']));
    for (const e of cellErrors) {
      expect(e.message.length).toBeLessThan(300);
      expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
  });

  it('when a people file has a blank line, then an error after it names the row a spreadsheet shows', () => {
    const file = readPeopleFile(`${HEADER}\r\n${partner}\r\n\r\n${ada.replace('Europe/London', 'Europe/Londn')}\r\n`);
    expect(file).toEqual({ ok: false, errors: [{ row: 4, column: 'timezone', message: expect.stringContaining('Europe/Londn') as string }] });
  });

  it('when a quote is unclosed or stray, then the row is named', () => {
    expect(parseCsv('a\r\n"open')).toMatchObject({ ok: false, row: 2 });
    expect(parseCsv('a\r\nx"y"')).toMatchObject({ ok: false, row: 2 });
    expect(parseCsv('a\r\n"x"y')).toMatchObject({ ok: false, row: 2 });
  });

  it('when any records are written, then they parse back to themselves (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\r', '\n', '\r\n', 'é', '😀', '\uFEFF', ';') , maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { maxLength: 8 }), (records) => {
        const parsed = parseCsv(writeCsv(records));
        expect(parsed.ok && parsed.records.map((r) => r.fields)).toEqual(records);
      }),
      { numRuns: 500 },
    );
  });
});

describe('working days', () => {
  it('when written as names, numbers, ranges or a range past Sunday, then they are ISO weekdays', () => {
    expect(parseWorkingDays('Mon-Fri')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWorkingDays('1,2,3,4,5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWorkingDays('sun-thu')).toEqual([1, 2, 3, 4, 7]);
    expect(parseWorkingDays('Mon, Wed;Friday')).toEqual([1, 3, 5]);
    expect(parseWorkingDays('1-3,6')).toEqual([1, 2, 3, 6]);
    expect(parseWorkingDays('Mon-Funday')).toMatch(/not a range/);
    expect(parseWorkingDays('8')).toMatch(/not a weekday/);
  });

  it('when any set of days is formatted, then it reads back the same (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }), (days) => {
        expect(parseWorkingDays(formatWorkingDays(days))).toEqual([...days].sort((a, b) => a - b));
      }),
    );
  });
});

describe('the people file', () => {
  it('when the file is valid, then each person is read with the row it came from', () => {
    const file = readPeopleFile(`${HEADER}\r\n${partner}\r\n${ada}\r\n`);
    expect(file.ok).toBe(true);
    if (!file.ok) return;
    expect(file.hasRoles).toBe(false);
    expect(file.people.map((p) => [p.row, p.person.id])).toEqual([[2, 'P1'], [3, 'E1']]);
    expect(file.people[1]!.person).toEqual({
      id: 'E1', name: 'Ada Lovelace', email: 'ada@acme.example', title: 'Engineer', department: 'Engineering', location: 'London',
      timezone: 'Europe/London', workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, managerId: null, hrPartnerId: 'P1', roles: undefined, active: true,
    });
  });

  it('when the header names an unknown column or lacks one, then every such problem is on row 1', () => {
    const file = readPeopleFile(`${HEADER.replace(',location', '')},salary\r\n`);
    expect(file).toEqual({
      ok: false,
      errors: [
        { row: 1, column: 'salary', message: expect.stringContaining('unknown column') as string },
        { row: 1, column: 'location', message: 'the header has no location column' },
      ],
    });
  });

  it('when several rows have errors, then all of them are listed by row and column', () => {
    const rows = [
      partner,
      'E2,Bob,not-an-email,,,P1,,,Mars/Olympus,Mon-Fri,09:00,17:00',
      'E3,Cy,cy@acme.example,,,P1,,,Europe/Berlin,Funday,9:00,25:00',
      'E4,Di,di@acme.example,,,P1,,,Europe/Berlin,Mon-Fri,17:00,09:00,extra',
      'E5,,e5@acme.example,,,P1,,,Europe/Berlin,Mon-Fri,10:00,09:00',
    ];
    const file = readPeopleFile(`${HEADER}\r\n${rows.join('\r\n')}`);
    expect(file.ok).toBe(false);
    if (file.ok) return;
    expect(file.errors.map((e) => [e.row, e.column])).toEqual([
      [3, 'timezone'],
      [3, 'email'],
      [4, 'working_days'],
      [4, 'work_end'],
      [5, null],
      [6, 'name'],
      [6, 'work_end'],
    ]);
  });

  it('when roles and active are given, then they are read; a person twice is refused on the second row', () => {
    const header = `${HEADER},roles,active`;
    const file = readPeopleFile(`${header}\r\n${partner},hr_lead; operator,yes\r\n${ada},,false\r\n${ada},,\r\n`);
    expect(file).toEqual({ ok: false, errors: [{ row: 4, column: 'id', message: 'E1 is also on row 3' }] });
    const ok = readPeopleFile(`${header}\r\n${partner},hr_lead; operator,yes\r\n${ada},,false\r\n`);
    expect(ok.ok && ok.people.map((p) => [p.person.roles, p.person.active])).toEqual([[['hr_lead', 'operator'], true], [[], false]]);
    expect(readPeopleFile(`${header}\r\n${ada},boss,maybe\r\n`)).toMatchObject({ ok: false, errors: [{ row: 2, column: 'roles' }, { row: 2, column: 'active' }] });
  });

  it('when the file is empty, then it says which columns the header must name', () => {
    expect(readPeopleFile('')).toMatchObject({ ok: false, errors: [{ row: 1, column: null, message: expect.stringContaining('id, name, email') as string }] });
  });

  it('when any valid set of people is written as a file, then the file reads back as the same people (property)', () => {
    const text = (max: number) => fc.string({ unit: fc.constantFrom('a', 'B', ' ', ',', '"', 'ö', '-', "'", '9'), minLength: 1, maxLength: max }).map((s) => s.trim()).filter((s) => s.length > 0);
    const time = fc.tuple(fc.integer({ min: 0, max: 22 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const person = (id: string, ids: string[]) =>
      fc.record({
        id: fc.constant(id),
        name: text(40),
        email: fc.constant(`${id.toLowerCase()}@acme.example`),
        title: fc.option(text(30), { nil: null }),
        department: fc.option(text(30), { nil: null }),
        location: fc.option(text(30), { nil: null }),
        timezone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'Asia/Singapore', 'UTC'),
        workingHours: fc.record({ days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }), start: time, end: fc.constant('23:30') }),
        managerId: fc.option(fc.constantFrom(...ids), { nil: null }),
        hrPartnerId: fc.option(fc.constantFrom(...ids), { nil: null }),
        roles: fc.subarray(['access_admin', 'hr_lead', 'operator'] as const),
        active: fc.boolean(),
      });
    const people = fc.integer({ min: 1, max: 6 }).chain((n) => {
      const ids = Array.from({ length: n }, (_, i) => `E${i + 1}`);
      return fc.tuple(...ids.map((id) => person(id, ids)));
    });
    fc.assert(
      fc.property(people, (list) => {
        const normal = list.map((p) => normalizePerson(DirectoryPersonSchema.parse(p)));
        const file = readPeopleFile(writePeopleFile(normal));
        expect(file.ok && file.people.map((p) => p.person)).toEqual(normal);
      }),
      { numRuns: 200 },
    );
  });
});

describe('planning a batch over the directory', () => {
  const record = (id: string, over: Partial<DirectoryPerson> = {}): DirectoryPerson => ({
    id, name: id, email: `${id.toLowerCase()}@acme.example`, title: null, department: null, location: null, timezone: 'UTC',
    workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, managerId: null, hrPartnerId: null, roles: [], active: true, ...over,
  });
  const directory = (...people: DirectoryPerson[]) => new Map<string, CurrentPerson>(people.map((p) => [p.id, { person: p, version: 1, userName: p.email, externalId: null }]));

  it('when a batch makes a manager cycle, names unknown people or reuses an email, then every problem is listed and nothing is planned', () => {
    const current = directory(record('A'), record('B', { managerId: 'A' }));
    const outcome = planPeople(current, [record('A', { managerId: 'B' }), record('C', { hrPartnerId: 'X', email: 'b@acme.example' })]);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems.map((p) => [p.personId, p.field])).toEqual([
      ['C', 'hrPartnerId'],
      ['C', 'email'],
      ['A', 'managerId'],
    ]);
  });

  it('when a batch is planned again over its own result, then nothing changes (idempotent)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ title: fc.option(fc.constantFrom('x', 'y'), { nil: null }), active: fc.boolean() }), { minLength: 1, maxLength: 5 }), (variants) => {
        const batch = variants.map((v, i) => record(`E${i}`, { ...v, managerId: i > 0 ? 'E0' : null }));
        const first = planPeople(new Map(), batch);
        expect(first.ok).toBe(true);
        const after = directory(...batch);
        const again = planPeople(after, batch);
        expect(again.ok && [again.plan.created.length, again.plan.updated.length, again.plan.unchanged.length]).toEqual([0, 0, batch.length]);
      }),
    );
  });

  it('when a full batch leaves someone out, then they are deactivated with a new version', () => {
    const outcome = planPeople(directory(record('A'), record('B')), [record('A')], { deactivateMissing: true });
    expect(outcome.ok && outcome.plan.deactivated).toEqual(['B']);
    expect(outcome.ok && outcome.plan.updated.map((c) => [c.person.id, c.version, c.fields])).toEqual([['B', 2, ['active']]]);
  });
});
