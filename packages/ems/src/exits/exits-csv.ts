import type { ems } from '@ems/contracts';

/** A CSV file of people to exit: `employee_id[,last_working_day]` (header first, RFC 4180, UTF-8). */
export const MAX_EXITS_CSV_BYTES = 2 * 1024 * 1024;

export type CsvOutcome = { ok: true; employees: ems.StartExitsRequest['employees']; rows: number[] } | { ok: false; errors: ems.ExitRowError[] };

/** One line's fields (quotes as RFC 4180: "a ""b""" is a "b"). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/**
 * The file's people, each with its line number (the header is line 1) for errors by row. Blank lines are
 * skipped; an unknown column, a missing employee_id or a line with more fields than the header is an error.
 */
export function parseExitsCsv(text: string): CsvOutcome {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = fields(lines[0] ?? '').map((h) => h.toLowerCase());
  const errors: ems.ExitRowError[] = [];
  const known = new Set(['employee_id', 'last_working_day']);
  for (const h of header) if (!known.has(h)) errors.push({ row: 1, employeeId: null, error: `unknown column "${h}" (the columns are employee_id and, optionally, last_working_day)` });
  const idCol = header.indexOf('employee_id');
  const dayCol = header.indexOf('last_working_day');
  if (idCol < 0) errors.push({ row: 1, employeeId: null, error: 'the header must name the column employee_id' });
  if (errors.length) return { ok: false, errors };
  const employees: ems.StartExitsRequest['employees'] = [];
  const rows: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const f = fields(line);
    const row = i + 1;
    if (f.length > header.length) {
      errors.push({ row, employeeId: f[idCol] || null, error: `${f.length} fields where the header names ${header.length}` });
      continue;
    }
    const employeeId = f[idCol] ?? '';
    if (!employeeId) {
      errors.push({ row, employeeId: null, error: 'employee_id is empty' });
      continue;
    }
    const day = dayCol >= 0 ? (f[dayCol] ?? '') : '';
    employees.push({ employeeId, ...(day ? { lastWorkingDay: day } : {}) });
    rows.push(row);
  }
  if (errors.length) return { ok: false, errors };
  if (!employees.length) return { ok: false, errors: [{ row: 1, employeeId: null, error: 'the file names nobody' }] };
  return { ok: true, employees, rows };
}
