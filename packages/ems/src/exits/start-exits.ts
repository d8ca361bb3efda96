/*
 * HR ends employments: one person (an involuntary exit) or many (a mass exit) — one path, a batch.
 *
 *   POST /api/exits ──every person checked at once (unknown, deactivated, already an open case, a day in the past)
 *        │                 └─ any refused ─▶ 422 listing each by row; nothing changed
 *        ├─ the same Idempotency-Key again ─▶ 200, the same batch (a different request under it: 422)
 *        └─ one transaction: the batch, a case per person (set-based), then
 *             choreography: involuntaryExitsStarted per chunk of ≤500, in that transaction
 *             orchestration: one DBOS workflow for the batch (exits.workflow.ts), started after it
 *           ─▶ 202, Location /api/exits/{batchId}
 */
import { createHash } from 'node:crypto';
import { HttpProblem, type Actor, type Clock } from '@ems/platform';
import { nameUuid } from '@ems/eventbus';
import { ems } from '@ems/contracts';
import { sql, type Kysely } from 'kysely';
import { addDays, endOfDay, localDate } from '../domain/resignation.ts';
import type { EmsDb } from '../db/types.ts';
import { byEmployeeId, chunksOf, type BatchDraft, type ExitBatchStore, type ExitDraft, type OpenBatchOutcome } from './exit-batch.store.ts';

/** How a batch gets going: opened in one transaction; the mode decides what else happens in it or after it. */
export interface ExitStarter {
  mode: 'orchestration' | 'choreography';
  start(batch: BatchDraft): Promise<OpenBatchOutcome>;
  /** A repeat of a batch already opened: orchestration makes sure its workflow runs (its opener may have died before starting it). */
  resume?(batchId: string): Promise<void>;
}

export interface StartExitsDeps {
  exits: ExitBatchStore;
  starter: ExitStarter;
  clock: Clock;
  /** A step not done this long after the batch (×1 per chunk) is late. */
  stepDeadlineSeconds: number;
}

export type StartExitsResult = { kind: 'created' | 'replayed'; started: ems.ExitsStarted };

export async function startExits(
  deps: StartExitsDeps,
  input: ems.StartExitsRequest,
  meta: { idempotencyKey: string; actor: Actor; traceparent?: string | undefined; /** CSV: each employee's line number (else the n-th employee is row n). */ rows?: readonly number[] },
): Promise<StartExitsResult> {
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([input.employees.map((e) => [e.employeeId, e.lastWorkingDay ?? null]), input.revokeAt ?? null, input.reason, input.note ?? null]))
    .digest('hex');
  const repeat = await deps.exits.byIdempotencyKey(meta.idempotencyKey);
  if (repeat) return replay(deps, repeat, fingerprint, meta.idempotencyKey);

  const now = deps.clock.now();
  const rowOf = (i: number) => meta.rows?.[i] ?? i + 1;
  const revokeAt = input.revokeAt ? new Date(input.revokeAt) : null;
  if (revokeAt && revokeAt.getTime() <= now.getTime()) throw invalid('body.revokeAt', `revokeAt ${input.revokeAt} is not in the future (now is ${now.toISOString()})`);
  if (revokeAt && revokeAt.getTime() > now.getTime() + 366 * 86_400_000) throw invalid('body.revokeAt', `revokeAt ${input.revokeAt} is more than a year ahead`);

  // Every person checked at once: the roster (one query), their open cases (one query).
  const ids = [...new Set(input.employees.map((e) => e.employeeId))];
  const [roster, open] = await Promise.all([rosterOf(deps.exits.db, ids), deps.exits.openCasesOf(ids)]);
  const errors: ems.ExitRowError[] = [];
  const seen = new Map<string, number>();
  const drafts: ExitDraft[] = [];
  const batchId = nameUuid(`ems.exit-batch:${meta.idempotencyKey}`);
  input.employees.forEach((e, i) => {
    const row = rowOf(i);
    const refuse = (error: string) => errors.push({ row, employeeId: e.employeeId, error });
    const first = seen.get(e.employeeId);
    if (first !== undefined) return refuse(`listed twice (first on row ${first})`);
    seen.set(e.employeeId, row);
    const p = roster.get(e.employeeId);
    if (!p) return refuse('no employee with this id');
    if (!p.active) return refuse('deactivated in the directory');
    const openCase = open.get(e.employeeId);
    if (openCase) return refuse(`already has an open case (${openCase})`);
    const today = localDate(now, p.timezone);
    const day = e.lastWorkingDay ?? today;
    if (day < today) return refuse(`last_working_day ${day} is in the past (today is ${today} in ${p.timezone})`);
    if (day > addDays(today, 366)) return refuse(`last_working_day ${day} is more than a year ahead`);
    drafts.push({
      resignationId: nameUuid(`ems.exit:${batchId}:${p.id}`),
      employeeId: p.id,
      employeeName: p.name,
      employeeEmail: p.email,
      timezone: p.timezone,
      manager: p.manager,
      // The case's HR partner: the employee's, or the HR lead who started the exit.
      hrPartnerId: p.hrPartnerId ?? meta.actor.id,
      department: p.department,
      lastWorkingDay: day,
      // Revoked at the instant HR gave, or at the end of the last working day in the employee's zone.
      revokeAt: revokeAt ?? endOfDay(day, p.timezone),
    });
  });
  if (errors.length) throw refused(errors);

  drafts.sort(byEmployeeId);
  const chunks = chunksOf(drafts.length);
  const batch: BatchDraft = {
    id: batchId,
    mode: deps.starter.mode,
    reason: input.reason,
    revokeAt,
    note: input.note ?? null,
    idempotencyKey: meta.idempotencyKey,
    fingerprint,
    actor: meta.actor,
    traceparent: meta.traceparent ?? null,
    createdAt: now,
    exits: drafts,
    expectedBy: new Date(now.getTime() + deps.stepDeadlineSeconds * 1000 * chunks),
  };
  const outcome = await deps.starter.start(batch);
  if (outcome.outcome === 'existing') {
    const again = await deps.exits.byIdempotencyKey(meta.idempotencyKey);
    if (again) return replay(deps, again, fingerprint, meta.idempotencyKey);
  }
  if (outcome.outcome === 'conflict') {
    // Someone got an open case meanwhile (a resignation, another batch): say who, by row.
    const nowOpen = await deps.exits.openCasesOf(ids);
    const late = input.employees.flatMap((e, i) => {
      const c = nowOpen.get(e.employeeId);
      return c ? [{ row: rowOf(i), employeeId: e.employeeId, error: `already has an open case (${c})` }] : [];
    });
    throw refused(late.length ? late : [{ row: 1, employeeId: null, error: `a case was opened meanwhile: ${outcome.detail}` }]);
  }
  return { kind: 'created', started: { id: batchId, total: drafts.length, chunks, progress: ems.EmsPaths.exit(batchId) } };
}

async function replay(deps: StartExitsDeps, b: { id: string; total: number; chunks: number; fingerprint: string }, fingerprint: string, key: string): Promise<StartExitsResult> {
  if (b.fingerprint !== fingerprint) {
    throw new HttpProblem(422, `Idempotency-Key ${JSON.stringify(key)} was already used with a different request`, {
      type: 'https://ems.dev/problems/idempotency-key-reused',
      title: 'Idempotency key reused',
    });
  }
  await deps.starter.resume?.(b.id);
  return { kind: 'replayed', started: { id: b.id, total: b.total, chunks: b.chunks, progress: ems.EmsPaths.exit(b.id) } };
}

interface RosterPerson {
  id: string;
  name: string;
  email: string;
  timezone: string;
  active: boolean;
  hrPartnerId: string | null;
  department: string | null;
  manager: { id: string; name: string; email: string } | null;
}

/** EMS's roster for these people, with their managers: one query. */
async function rosterOf(db: Kysely<EmsDb>, ids: readonly string[]): Promise<Map<string, RosterPerson>> {
  const rows = await db
    .selectFrom('employees as e')
    .leftJoin('employees as m', 'm.id', 'e.manager_id')
    .select(['e.id', 'e.name', 'e.email', 'e.timezone', 'e.active', 'e.hr_partner_id', 'e.department', 'm.id as manager_id', 'm.name as manager_name', 'm.email as manager_email'])
    .where(sql<boolean>`e.id = ANY(${[...ids]}::text[])`)
    .execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        name: r.name,
        email: r.email,
        timezone: r.timezone,
        active: r.active,
        hrPartnerId: r.hr_partner_id,
        department: r.department,
        manager: r.manager_id && r.manager_name && r.manager_email ? { id: r.manager_id, name: r.manager_name, email: r.manager_email } : null,
      },
    ]),
  );
}

/** 422: the people who cannot exit, each by row; nothing was started. */
export function refused(errors: ems.ExitRowError[]): HttpProblem {
  return new HttpProblem(422, `${errors.length} ${errors.length === 1 ? 'row was' : 'rows were'} refused; nothing was started`, {
    type: ems.EmsProblemTypes.exitRowsRefused,
    title: 'Exit rows refused',
    extra: { errors },
  });
}

function invalid(path: string, message: string): HttpProblem {
  return new HttpProblem(400, message, { type: 'https://ems.dev/problems/validation', title: 'Invalid request', extra: { errors: [{ path, message }] } });
}
