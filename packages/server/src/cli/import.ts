/**
 * `ems import people.csv [--dry-run] [--deactivate-missing]`: HR's export into the directory, through the API
 * (POST /api/directory/imports) with the CLI's sign-in, printing what changed — or, refused, every error by
 * row and column (nothing was imported).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { IdentityPaths } from '@ems/contracts/paths';
import type { DirectoryImportProblem, DirectoryImportReport } from '@ems/contracts/identity';
import { authorization } from './sign-in.ts';

export const IMPORT_USAGE = 'Usage: ems import <people.csv> [--dry-run] [--deactivate-missing]';

export interface ImportIo {
  baseUrl: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Exit code: 0 imported (or dry run answered), 1 refused or failed, 2 usage. */
export async function importCommand(args: string[], io: ImportIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'dry-run': { type: 'boolean' }, 'deactivate-missing': { type: 'boolean' } } });
  const [file, ...extra] = positionals;
  if (!file || extra.length) {
    io.err(IMPORT_USAGE);
    return 2;
  }
  let csv: Buffer;
  try {
    csv = await readFile(file);
  } catch (err) {
    io.err(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    return 1;
  }
  const query = new URLSearchParams();
  if (values['dry-run']) query.set('dryRun', 'true');
  if (values['deactivate-missing']) query.set('deactivateMissing', 'true');
  const url = `${io.baseUrl}${IdentityPaths.directoryImports}${query.size ? `?${query.toString()}` : ''}`;

  // Not signed in: SignInRequired, which `ems` prints as it does for every command.
  const credentials = await authorization(io.baseUrl);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/csv; charset=utf-8', authorization: credentials },
      body: new Uint8Array(csv),
      signal: AbortSignal.timeout(120_000),
    });
  } catch {
    io.err(`Cannot reach EMS at ${io.baseUrl} — is it running? (npm start)`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as Partial<DirectoryImportReport & DirectoryImportProblem>;
  if (res.status === 422 && Array.isArray(body.errors)) {
    const errors = body.errors;
    io.err(`${file} was refused: ${errors.length} error${errors.length === 1 ? '' : 's'}, nothing was imported.`);
    for (const e of errors) io.err(`  row ${e.row}${e.column ? `, ${e.column}` : ''}: ${e.message}`);
    return 1;
  }
  if (res.status === 401) {
    io.err(`401 ${body.detail ?? 'Unauthorized'} — sign in again: ems login`);
    return 1;
  }
  if (res.status >= 400) {
    io.err(`${res.status} ${body.title ?? ''}: ${body.detail ?? ''}`.trim());
    return 1;
  }
  printReport(body as DirectoryImportReport, file, io.out);
  return 0;
}

function printReport(r: DirectoryImportReport, file: string, out: (line: string) => void): void {
  out(r.dryRun ? `Dry run of ${file} (${r.rows} people): nothing was changed. It would:` : `Imported ${file} (${r.rows} people):`);
  const names = (xs: ReadonlyArray<{ id: string; name: string }>) => xs.map((x) => `${x.id} ${x.name}`);
  const section = (label: string, lines: string[], count = lines.length) => {
    out(`  ${label.padEnd(12)} ${String(count).padStart(5)}`);
    for (const l of lines.slice(0, 200)) out(`    ${l}`);
    if (lines.length > 200) out(`    … and ${lines.length - 200} more`);
  };
  section(r.dryRun ? 'create' : 'created', names(r.created));
  section(
    r.dryRun ? 'update' : 'updated',
    r.updated.map((u) => `${u.id} ${u.name}: ${u.changes.map((c) => `${c.column} ${c.from === '' ? '(empty)' : JSON.stringify(c.from)} → ${c.to === '' ? '(empty)' : JSON.stringify(c.to)}`).join('; ')}`),
  );
  section('unchanged', [], r.unchanged.length);
  section(r.dryRun ? 'deactivate' : 'deactivated', names(r.deactivated));
}
