import type { ems } from '@ems/contracts';
import { EmsPaths } from '@ems/contracts/paths';
import { Problem, get, request, type Query } from './client.ts';

/**
 * Involuntary and mass exits (packages/contracts/src/ems.ts, "Involuntary and mass exits"), as the HR lead:
 * start one (one person as JSON, or a CSV file sent as it is: the server parses and checks it), list the batches
 * (newest first, from their rows: no counts) and read a batch's progress.
 */
export type ExitReason = ems.ExitReason;
export type ExitBatch = ems.ExitBatch;
export type ExitBatchCase = ems.ExitBatchCase;
export type ExitsStarted = ems.ExitsStarted;
export type ExitBatchSummary = ems.ExitBatchSummary;
export type ExitBatchList = ems.ExitBatchList;
export type ExitRowError = ems.ExitRowError;
export type StartExitsRequest = ems.StartExitsRequest;

/** The server's limit on a file (MAX_EXITS_CSV_BYTES): a bigger one is refused before it is sent. */
export const MAX_EXITS_CSV_BYTES = 2 * 1024 * 1024;
/** At most this many people in one batch (MAX_EXITS_PER_BATCH). */
export const MAX_EXITS_PER_BATCH = 10_000;

/** The reasons in words (a Record: the compiler insists on every reason the contract names). */
export const EXIT_REASON_WORDS: Record<ExitReason, string> = {
  misconduct: 'Misconduct',
  redundancy: 'Redundancy',
  performance: 'Performance',
  end_of_contract: 'End of contract',
  other: 'Another reason',
};
export const EXIT_REASONS = Object.keys(EXIT_REASON_WORDS) as ExitReason[];

/** What HR gives besides the people: the reason, when access is revoked (absent: the end of each last working day), a note for HR. */
export interface ExitTerms {
  reason: ExitReason;
  revokeAt?: string;
  note?: string;
}

/** One person (or a few) as JSON: 202 with the batch (200 for a repeat of the same Idempotency-Key). */
export const startExits = (body: StartExitsRequest, idempotencyKey: string) => request<ExitsStarted>(EmsPaths.exits, { method: 'POST', body, idempotencyKey });

/** A CSV file (`employee_id[,last_working_day]`), its text as chosen; the terms go as query parameters. */
export const startExitsFromCsv = (csv: string, terms: ExitTerms, idempotencyKey: string) =>
  request<ExitsStarted>(EmsPaths.exits, {
    method: 'POST',
    raw: { body: csv, contentType: 'text/csv; charset=utf-8' },
    query: { reason: terms.reason, revokeAt: terms.revokeAt, note: terms.note },
    idempotencyKey,
  });

/** The batches, newest first, a page at a time (limit, offset; nextOffset null on the last page). */
export const listExitBatches = (query: { limit: number; offset: number }, signal?: AbortSignal) => get<ExitBatchList>(EmsPaths.exits, query, signal);

export const getExitBatch = (batchId: string, query: Query, signal?: AbortSignal) => get<ExitBatch>(EmsPaths.exit(batchId), query, signal);

/** A refused request's people by row (422 exit-rows-refused), in row order; undefined for any other failure. */
export function exitRowErrors(err: unknown): ExitRowError[] | undefined {
  if (!(err instanceof Problem) || err.status !== 422 || !Array.isArray(err.body.errors)) return undefined;
  const rows = err.body.errors.flatMap((e: unknown): ExitRowError[] => {
    if (typeof e !== 'object' || e === null) return [];
    const { row, employeeId, error } = e as Record<string, unknown>;
    return typeof row === 'number' && typeof error === 'string' ? [{ row, employeeId: typeof employeeId === 'string' ? employeeId : null, error }] : [];
  });
  return rows.length ? rows.sort((a, b) => a.row - b.row) : undefined;
}

/**
 * The people a file names, counted as the server reads it (every non-blank line after the header), for the
 * confirmation; the server's count is the one that holds.
 */
export function countCsvPeople(text: string): number {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim() !== '').length;
}

/** Whether a file's header names employee_id (checked before sending, so the mistake is named at the file). */
export function csvHeaderOk(text: string): boolean {
  const header = (text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '').split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
  return header.includes('employee_id');
}
