/**
 * CSV as RFC 4180 writes it, read leniently where spreadsheets differ: fields separated by commas, records
 * by CRLF (a lone LF or CR too); a field in double quotes may hold commas, line breaks and doubled quotes
 * (""); a UTF-8 byte-order mark before the first field is dropped; a line with nothing on it is no record.
 * Pure: no I/O.
 */

export interface CsvRecord {
  /** The record's row in the file, the first (the header) being 1, blank lines counted: the row a spreadsheet shows it on. */
  row: number;
  fields: string[];
}

export type CsvParse = { ok: true; records: CsvRecord[] } | { ok: false; row: number; message: string };

export function parseCsv(text: string): CsvParse {
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  // Whether the current record has anything in it (a blank line is skipped, `""` is a record of one empty field).
  let started = false;
  // The current record's row as a spreadsheet numbers it: a blank line is a row too (an empty one).
  let row = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (started) records.push({ row, fields });
    fields = [];
    field = '';
    started = false;
    row++;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = s[i];
        if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') {
          return { ok: false, row, message: 'a quoted field must end at a comma or the end of the line (write a quote inside a quoted field as "")' };
        }
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') return { ok: false, row, message: 'a quote in the middle of an unquoted field (quote the whole field and double the quote: "a ""b"" c")' };
      quoted = true;
      started = true;
      i++;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      started = true;
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c;
    started = true;
    i++;
  }
  if (quoted) return { ok: false, row, message: 'a quoted field is not closed before the end of the file' };
  if (started || field !== '') endRecord();
  return { ok: true, records };
}

/** One field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break (or would read as a blank line). */
export function csvField(value: string, alone = false): string {
  return /[",\r\n]/.test(value) || (alone && value === '') || value.startsWith('\uFEFF') ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records as CSV text, CRLF after each. */
export function writeCsv(records: readonly (readonly string[])[]): string {
  return records.map((r) => `${r.map((v) => csvField(v, r.length === 1)).join(',')}\r\n`).join('');
}
