import { DirectoryPerson as DirectoryPersonSchema, AdminRole } from '@ems/contracts/events';
import { StorableLine } from '@ems/contracts';
import { parseCsv, writeCsv } from './csv.ts';
import type { DirectoryPerson } from '../directory/plan-people.ts';

/**
 * The people file: one person per row, the columns named by the header (any order, names as below).
 *
 * | column        | required | example                | meaning |
 * |---------------|----------|------------------------|---------|
 * | id            | yes      | E1042                  | the person's id (letters, digits, . _ -), stable across imports |
 * | name          | yes      | Ada Lovelace           | |
 * | email         | yes      | ada@acme.example       | unique |
 * | title         | column   | Software Engineer      | may be empty |
 * | manager_id    | column   | E1007                  | empty: no manager; must be in the file or the directory |
 * | hr_partner_id | column   | hrp-berlin             | empty: none; must be in the file or the directory |
 * | department    | column   | Engineering            | a name; may be empty |
 * | location      | column   | Berlin                 | may be empty |
 * | timezone      | yes      | Europe/Berlin          | IANA time zone |
 * | working_days  | yes      | Mon-Fri                | days and ranges: Mon-Fri, Sun-Thu, Mon,Wed,Fri, 1-5, 1,2,3,4,5 |
 * | work_start    | yes      | 09:00                  | HH:mm, local to timezone |
 * | work_end      | yes      | 17:30                  | HH:mm, after work_start |
 * | roles         | no       | hr_lead;operator       | administrative roles, ;-separated; column absent: roles kept |
 * | active        | no       | true                   | true/false (yes/no, 1/0); empty or column absent: true |
 *
 * "column": the header must name it, a cell may be empty. Pure: no I/O.
 */

export const REQUIRED_COLUMNS = ['id', 'name', 'email', 'title', 'manager_id', 'hr_partner_id', 'department', 'location', 'timezone', 'working_days', 'work_start', 'work_end'] as const;
export const OPTIONAL_COLUMNS = ['roles', 'active'] as const;
export const COLUMNS = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as const;
export type Column = (typeof COLUMNS)[number];

/** The largest file taken (bytes), and the most people in one. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 50_000;

export interface RowError {
  /** The record's number, the header being 1. */
  row: number;
  /** null: the whole row (or file). */
  column: string | null;
  message: string;
}

/** A person as the file gives them; roles undefined when the file has no roles column (the directory's are kept). */
export interface FilePerson {
  row: number;
  person: Omit<DirectoryPerson, 'roles'> & { roles: DirectoryPerson['roles'] | undefined };
}

export type PeopleFile = { ok: true; people: FilePerson[]; hasRoles: boolean } | { ok: false; errors: RowError[] };

const DAY_NAMES: Record<string, number> = {
  mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, wednesday: 3, thu: 4, thur: 4, thurs: 4, thursday: 4,
  fri: 5, friday: 5, sat: 6, saturday: 6, sun: 7, sunday: 7,
};
const DAY_LABELS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A value of the file as an error quotes it: in double quotes, control characters escaped, at most 60 characters. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function day(token: string): number | undefined {
  const t = token.trim().toLowerCase();
  if (/^[1-7]$/.test(t)) return Number(t);
  return DAY_NAMES[t];
}

/** 'Mon-Fri', 'Sun-Thu' (a range may wrap past Sunday), 'Mon,Wed,Fri', '1-5', '1,2,3,4,5' (also ; or spaces) → ISO weekdays, ascending. */
export function parseWorkingDays(text: string): number[] | string {
  const items = text.split(/[,;\s]+/).filter((x) => x !== '');
  if (!items.length) return 'is empty (e.g. Mon-Fri)';
  const days = new Set<number>();
  for (const item of items) {
    const range = item.split('-');
    if (range.length === 1) {
      const d = day(item);
      if (d === undefined) return `${shown(item)} is not a weekday (Mon … Sun or 1 … 7)`;
      days.add(d);
    } else if (range.length === 2) {
      const from = day(range[0]!);
      const to = day(range[1]!);
      if (from === undefined || to === undefined) return `${shown(item)} is not a range of weekdays (e.g. Mon-Fri)`;
      for (let d = from; ; d = (d % 7) + 1) {
        days.add(d);
        if (d === to) break;
      }
    } else {
      return `${shown(item)} is not a weekday or a range of weekdays`;
    }
  }
  return [...days].sort((a, b) => a - b);
}

/** Weekdays as the import writes them back: ranges of consecutive days, e.g. [1,2,3,4,5] → 'Mon-Fri'. */
export function formatWorkingDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${DAY_LABELS[sorted[i]!]}-${DAY_LABELS[sorted[j]!]}` : sorted.slice(i, j + 1).map((d) => DAY_LABELS[d]).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

function parseTime(text: string): string | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return undefined;
  return `${String(h).padStart(2, '0')}:${m[2]}`;
}

const knownZones = new Map<string, boolean>();
/** Whether the runtime's time zone database knows the zone (IANA names and their links); remembered (asking Intl costs ~1 ms). */
export function isIanaZone(zone: string): boolean {
  const known = knownZones.get(zone);
  if (known !== undefined) return known;
  let ok = /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone);
  if (ok) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
    } catch {
      ok = false;
    }
  }
  if (knownZones.size < 10_000) knownZones.set(zone, ok);
  return ok;
}

function parseActive(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'true' || t === 'yes' || t === '1') return true;
  if (t === 'false' || t === 'no' || t === '0') return false;
  return undefined;
}

/** Where a field of the record is in the file. */
const COLUMN_OF: Record<string, Column> = {
  id: 'id', name: 'name', email: 'email', title: 'title', department: 'department', location: 'location', timezone: 'timezone',
  workingHours: 'working_days', managerId: 'manager_id', hrPartnerId: 'hr_partner_id', roles: 'roles', active: 'active',
  userName: 'email', externalId: 'id',
};
export function columnOf(field: string, sub?: string): Column {
  if (field === 'workingHours') return sub === 'start' ? 'work_start' : sub === 'end' ? 'work_end' : 'working_days';
  return COLUMN_OF[field] ?? 'id';
}

/**
 * Reads a people file: every error of it, by row and column — or, when there is none, each person as the
 * file gives them (validated against the directory's record, the same one SCIM writes).
 */
export function readPeopleFile(text: string): PeopleFile {
  if (Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES) return { ok: false, errors: [{ row: 1, column: null, message: `the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB` }] };
  const parsed = parseCsv(text);
  if (!parsed.ok) return { ok: false, errors: [{ row: parsed.row, column: null, message: parsed.message }] };
  const [header, ...rows] = parsed.records;
  if (!header) return { ok: false, errors: [{ row: 1, column: null, message: `the file is empty: the first row must name the columns (${REQUIRED_COLUMNS.join(', ')})` }] };
  if (rows.length > MAX_IMPORT_ROWS) return { ok: false, errors: [{ row: MAX_IMPORT_ROWS + 2, column: null, message: `more than ${MAX_IMPORT_ROWS} people in one file` }] };

  const errors: RowError[] = [];
  const index = new Map<Column, number>();
  header.fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      errors.push({ row: 1, column: shown(raw).slice(1, -1), message: `unknown column ${shown(raw)} (the columns are ${COLUMNS.join(', ')})` });
    } else if (index.has(name as Column)) {
      errors.push({ row: 1, column: name, message: `column ${name} appears twice` });
    } else {
      index.set(name as Column, i);
    }
  });
  for (const c of REQUIRED_COLUMNS) if (!index.has(c)) errors.push({ row: 1, column: c, message: `the header has no ${c} column` });
  if (errors.length) return { ok: false, errors };

  const hasRoles = index.has('roles');
  const people: FilePerson[] = [];
  const firstRowOf = new Map<string, number>();
  for (const record of rows) {
    const row = record.row;
    if (record.fields.length !== header.fields.length) {
      errors.push({ row, column: null, message: `has ${record.fields.length} fields, the header ${header.fields.length}` });
      continue;
    }
    const rowErrors: RowError[] = [];
    const cell = (c: Column): string => (index.has(c) ? record.fields[index.get(c)!]!.trim() : '');
    const optional = (c: Column): string | null => (cell(c) === '' ? null : cell(c));
    for (const c of index.keys()) {
      const line = StorableLine.safeParse(record.fields[index.get(c)!]);
      if (!line.success) rowErrors.push({ row, column: c, message: line.error.issues[0]?.message ?? 'is not one line of text' });
    }
    for (const c of ['id', 'name', 'email', 'timezone', 'working_days', 'work_start', 'work_end'] as const) {
      if (cell(c) === '') rowErrors.push({ row, column: c, message: 'is empty' });
    }
    const timezone = cell('timezone');
    if (timezone !== '' && !isIanaZone(timezone)) rowErrors.push({ row, column: 'timezone', message: `${shown(timezone)} is not an IANA time zone (e.g. Europe/Berlin)` });
    const days = cell('working_days') === '' ? [] : parseWorkingDays(cell('working_days'));
    if (typeof days === 'string') rowErrors.push({ row, column: 'working_days', message: days });
    const start = cell('work_start') === '' ? '' : parseTime(cell('work_start'));
    const end = cell('work_end') === '' ? '' : parseTime(cell('work_end'));
    if (start === undefined) rowErrors.push({ row, column: 'work_start', message: `${shown(cell('work_start'))} is not a time HH:mm` });
    if (end === undefined) rowErrors.push({ row, column: 'work_end', message: `${shown(cell('work_end'))} is not a time HH:mm` });
    if (start && end && start >= end) rowErrors.push({ row, column: 'work_end', message: `must be after work_start (${start})` });
    let roles: DirectoryPerson['roles'] | undefined;
    if (hasRoles) {
      roles = [];
      for (const r of cell('roles').split(';').map((x) => x.trim().toLowerCase()).filter(Boolean)) {
        const role = AdminRole.safeParse(r);
        if (role.success) roles.push(role.data);
        else rowErrors.push({ row, column: 'roles', message: `${shown(r)} is not a role (${AdminRole.options.join(', ')})` });
      }
      roles = [...new Set(roles)].sort();
    }
    const active = parseActive(cell('active'));
    if (active === undefined) rowErrors.push({ row, column: 'active', message: `${shown(cell('active'))} is neither true nor false` });

    const person = {
      id: cell('id'),
      name: cell('name'),
      email: cell('email'),
      title: optional('title'),
      department: optional('department'),
      location: optional('location'),
      timezone,
      workingHours: { days: typeof days === 'string' ? [1] : days, start: start || '00:00', end: end || '00:01' },
      managerId: optional('manager_id'),
      hrPartnerId: optional('hr_partner_id'),
      roles: roles ?? [],
      active: active ?? true,
    };
    // The directory's own record: lengths, the id's and email's form — what the checks above do not cover.
    const checked = DirectoryPersonSchema.safeParse(person);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const [field, sub] = issue.path.map(String);
        const column = columnOf(field ?? 'id', sub);
        if (!rowErrors.some((e) => e.column === column)) rowErrors.push({ row, column, message: issue.message });
      }
    }
    if (person.id !== '') {
      const first = firstRowOf.get(person.id);
      if (first !== undefined) rowErrors.push({ row, column: 'id', message: `${shown(person.id).slice(1, -1)} is also on row ${first}` });
      else firstRowOf.set(person.id, row);
    }
    if (rowErrors.length) errors.push(...rowErrors);
    else people.push({ row, person: { ...person, roles } });
  }
  return errors.length ? { ok: false, errors } : { ok: true, people, hasRoles };
}

/** People as a file the import reads back as the same people (the column order of COLUMNS). */
export function writePeopleFile(people: readonly DirectoryPerson[]): string {
  return writeCsv([
    [...COLUMNS],
    ...people.map((p) => [
      p.id,
      p.name,
      p.email,
      p.title ?? '',
      p.managerId ?? '',
      p.hrPartnerId ?? '',
      p.department ?? '',
      p.location ?? '',
      p.timezone,
      formatWorkingDays(p.workingHours.days),
      p.workingHours.start,
      p.workingHours.end,
      p.roles.join(';'),
      String(p.active),
    ]),
  ]);
}

/** The value of a column as the import writes it, for the report of what changed. */
export function columnValue(p: DirectoryPerson, c: Column): string {
  switch (c) {
    case 'id': return p.id;
    case 'name': return p.name;
    case 'email': return p.email;
    case 'title': return p.title ?? '';
    case 'manager_id': return p.managerId ?? '';
    case 'hr_partner_id': return p.hrPartnerId ?? '';
    case 'department': return p.department ?? '';
    case 'location': return p.location ?? '';
    case 'timezone': return p.timezone;
    case 'working_days': return formatWorkingDays(p.workingHours.days);
    case 'work_start': return p.workingHours.start;
    case 'work_end': return p.workingHours.end;
    case 'roles': return p.roles.join(';');
    case 'active': return String(p.active);
  }
}
