import type { identity } from '@ems/contracts';
import { IdentityPaths } from '@ems/contracts/paths';
import { Problem, request } from './client.ts';

/**
 * The directory's CSV import (packages/contracts/src/identity.ts), as the signed-in person (HR lead or
 * operator). The file goes to the server as it is: the server parses and checks it (no CSV code here).
 */
export type ImportReport = identity.DirectoryImportReport;
export type ImportError = identity.DirectoryImportProblem['errors'][number];

/** The server's limit on a file (MAX_IMPORT_BYTES): a bigger one is refused before it is sent. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

export interface ImportOptions {
  dryRun: boolean;
  /** The file is a full export: anyone active who is not in it becomes inactive. */
  deactivateMissing: boolean;
}

/** Sends the file (its bytes, as read once when it was chosen): 200 a dry run's report, 201 the applied one; a refused file throws a Problem (see `importErrors`). */
export const importPeople = (file: ArrayBuffer, options: ImportOptions) =>
  request<ImportReport>(IdentityPaths.directoryImports, {
    method: 'POST',
    raw: { body: file, contentType: 'text/csv; charset=utf-8' },
    query: { dryRun: options.dryRun ? 'true' : undefined, deactivateMissing: options.deactivateMissing ? 'true' : undefined },
  });

/** A refused file's errors by row and column (422), in row order; undefined for any other failure. */
export function importErrors(err: unknown): ImportError[] | undefined {
  if (!(err instanceof Problem) || err.status !== 422 || !Array.isArray(err.body.errors)) return undefined;
  const errors = err.body.errors.flatMap((e: unknown): ImportError[] => {
    if (typeof e !== 'object' || e === null) return [];
    const { row, column, message } = e as Record<string, unknown>;
    return typeof row === 'number' && typeof message === 'string' ? [{ row, column: typeof column === 'string' ? column : null, message }] : [];
  });
  return errors.sort((a, b) => a.row - b.row);
}

/** The documented columns (README, "The file"): name, whether the header must name it, an example. */
export const IMPORT_COLUMNS: ReadonlyArray<{ name: string; required: 'yes' | 'column' | 'no'; example: string; meaning: string }> = [
  { name: 'id', required: 'yes', example: 'E1042', meaning: 'The person’s id; it must stay the same across imports.' },
  { name: 'name', required: 'yes', example: 'Ada Lovelace', meaning: 'Up to 200 characters.' },
  { name: 'email', required: 'yes', example: 'ada@acme.example', meaning: 'Unique in the directory.' },
  { name: 'title', required: 'column', example: 'Software Engineer', meaning: 'Job title.' },
  { name: 'manager_id', required: 'column', example: 'E1007', meaning: 'In the file or the directory; empty: no manager.' },
  { name: 'hr_partner_id', required: 'column', example: 'hrp-berlin', meaning: 'In the file or the directory; that person becomes an HR partner.' },
  { name: 'department', required: 'column', example: 'Engineering', meaning: 'A department name (created when new).' },
  { name: 'location', required: 'column', example: 'Berlin', meaning: 'Where they work.' },
  { name: 'timezone', required: 'yes', example: 'Europe/Berlin', meaning: 'An IANA time zone.' },
  { name: 'working_days', required: 'yes', example: 'Mon-Fri', meaning: 'Days or ranges: Mon-Fri, Sun-Thu, Mon,Wed,Fri or 1-5.' },
  { name: 'work_start', required: 'yes', example: '09:00', meaning: 'HH:mm, in their time zone.' },
  { name: 'work_end', required: 'yes', example: '17:30', meaning: 'HH:mm, after work_start.' },
  { name: 'roles', required: 'no', example: 'hr_lead;operator', meaning: 'hr_lead, access_admin, operator, separated by ;. No column: roles stay as they are.' },
  { name: 'active', required: 'no', example: 'true', meaning: 'true or false; empty or no column: true.' },
];
