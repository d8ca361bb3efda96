/**
 * `ems exit <employeeId> --reason R [--revoke-at ISO] [--last-day YYYY-MM-DD] [--note TEXT] [--no-wait]` and
 * `ems mass-exit <people.csv> --reason R [--revoke-at ISO] [--note TEXT] [--no-wait]`: involuntary exits through
 * the API (POST /api/exits) with the CLI's sign-in (an HR lead), then the batch's progress until it settles.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmsPaths } from '@ems/contracts/paths';
import type { ems } from '@ems/contracts';

type ExitBatch = ems.ExitBatch;
type ExitRowError = ems.ExitRowError;
type ExitsStarted = ems.ExitsStarted;
import { authorization } from './sign-in.ts';

export const EXIT_USAGE = 'Usage: ems exit <employeeId> --reason misconduct|redundancy|performance|end_of_contract|other [--revoke-at ISO] [--last-day YYYY-MM-DD] [--note TEXT] [--no-wait] [--idempotency-key K]';
export const MASS_EXIT_USAGE = 'Usage: ems mass-exit <people.csv> --reason misconduct|redundancy|performance|end_of_contract|other [--revoke-at ISO] [--note TEXT] [--no-wait] [--idempotency-key K]';

export interface ExitsIo {
  baseUrl: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Between two looks at the progress. */
  pollMs?: number;
}

const OPTIONS = {
  reason: { type: 'string' },
  'revoke-at': { type: 'string' },
  'last-day': { type: 'string' },
  note: { type: 'string' },
  'no-wait': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
} as const;

/** Exit code: 0 settled (or accepted with --no-wait), 1 refused, failed or a case failed, 2 usage. */
export async function exitCommand(kind: 'exit' | 'mass-exit', args: string[], io: ExitsIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    io.err(`${(err as Error).message}\n${kind === 'exit' ? EXIT_USAGE : MASS_EXIT_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [target, ...extra] = positionals;
  if (!target || extra.length || !values.reason || (kind === 'mass-exit' && values['last-day'])) {
    io.err(kind === 'exit' ? EXIT_USAGE : MASS_EXIT_USAGE);
    return 2;
  }
  const key = values['idempotency-key'] ?? randomUUID();
  const credentials = await authorization(io.baseUrl);
  let res: Response;
  try {
    if (kind === 'exit') {
      const body = {
        employees: [{ employeeId: target, ...(values['last-day'] ? { lastWorkingDay: values['last-day'] } : {}) }],
        reason: values.reason,
        ...(values['revoke-at'] ? { revokeAt: values['revoke-at'] } : {}),
        ...(values.note ? { note: values.note } : {}),
      };
      res = await fetch(`${io.baseUrl}${EmsPaths.exits}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: credentials }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
    } else {
      let csv: Buffer;
      try {
        csv = await readFile(target);
      } catch (err) {
        io.err(`Cannot read ${target}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
        return 1;
      }
      const query = new URLSearchParams({ reason: values.reason });
      if (values['revoke-at']) query.set('revokeAt', values['revoke-at']);
      if (values.note) query.set('note', values.note);
      res = await fetch(`${io.baseUrl}${EmsPaths.exits}?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'text/csv; charset=utf-8', 'idempotency-key': key, authorization: credentials }, body: new Uint8Array(csv), signal: AbortSignal.timeout(120_000) });
    }
  } catch {
    io.err(`Cannot reach EMS at ${io.baseUrl} — is it running? (npm start)`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as Partial<ExitsStarted> & { errors?: Array<ExitRowError | { path: string; message: string }>; title?: string; detail?: string };
  if (res.status === 422 && Array.isArray(body.errors)) {
    io.err(`Refused: ${body.detail ?? ''}`.trim());
    for (const e of body.errors) io.err('row' in e ? `  row ${e.row}${e.employeeId ? ` (${e.employeeId})` : ''}: ${e.error}` : `  ${e.path}: ${e.message}`);
    return 1;
  }
  if (res.status === 401) {
    io.err(`401 ${body.detail ?? 'Unauthorized'} — sign in again: ems login`);
    return 1;
  }
  if (res.status >= 400) {
    io.err(`${res.status} ${body.title ?? ''}: ${body.detail ?? ''}`.trim());
    for (const e of body.errors ?? []) io.err('row' in e ? `  row ${e.row}: ${e.error}` : `  ${e.path}: ${e.message}`);
    return 1;
  }
  const id = body.id!;
  io.out(`${res.status === 200 ? 'Already started (same Idempotency-Key)' : 'Started'}: batch ${id}, ${body.total} ${body.total === 1 ? 'person' : 'people'} in ${body.chunks} chunk${body.chunks === 1 ? '' : 's'} (idempotency key ${key})`);
  if (values['no-wait']) {
    io.out(`Progress: ems mass-exit is not waiting; GET ${EmsPaths.exit(id)}`);
    return 0;
  }
  let last = '';
  for (;;) {
    let p: ExitBatch;
    try {
      const r = await fetch(`${io.baseUrl}${EmsPaths.exit(id)}?limit=500`, { headers: { authorization: await authorization(io.baseUrl) }, signal: AbortSignal.timeout(30_000) });
      if (!r.ok) throw new Error(`${r.status}`);
      p = (await r.json()) as ExitBatch;
    } catch (err) {
      io.err(`Cannot read the progress (${(err as Error).message}); retrying`);
      await sleep(io.pollMs ?? 500);
      continue;
    }
    const line = `  access suspended ${p.accessSuspended}/${p.total} · notices sent ${p.noticesSent}/${p.total} · revocations scheduled ${p.revocationsScheduled}/${p.total} · failed ${p.failed}`;
    if (line !== last) io.out(line);
    last = line;
    if (p.settled) {
      for (const c of p.cases.items.filter((x) => x.accessSuspended === 'failed' || x.noticesSent === 'failed')) io.err(`  ${c.employeeId} ${c.employeeName}: access ${c.accessSuspended}, notices ${c.noticesSent}`);
      io.out(`Settled${p.settledAt ? ` at ${p.settledAt}` : ''}: every grant of ${p.accessSuspended} ${p.accessSuspended === 1 ? 'person' : 'people'} suspended, manager and employee told; access revoked at ${p.revokeAt ?? "the end of each person's last working day (their time zone)"}.`);
      return p.failed ? 1 : 0;
    }
    await sleep(io.pollMs ?? 500);
  }
}
