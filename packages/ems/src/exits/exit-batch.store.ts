/*
 * Involuntary and mass exits in EMS's database: a batch row, and one case per person — opened set-based
 * (a handful of statements over unnest() arrays for the whole batch, never a row at a time: 10,000 people
 * are one transaction of five statements), and its progress read by one aggregate over the batch's cases.
 *
 * A case of a batch is decided from the start (`exit_confirmed` by the HR lead, revocation at revokeAt):
 * its steps are suspendAccess (every grant suspended), announceDecision (manager and employee told, after
 * the suspension) and revokeAccess (at revokeAt); the case becomes `exited` when Access reports the
 * revocation, as a resignation's does.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Actor } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { EXIT_CHUNK_SIZE, type ExitPerson } from '@ems/contracts/events';
import type { EmsDb } from '../db/types.ts';
import { summaries } from '../domain/summaries.ts';

export const EMS = 'ems';

/** One person of a batch, as the case is opened. */
export interface ExitDraft {
  resignationId: string;
  employeeId: string;
  employeeName: string;
  employeeEmail: string;
  timezone: string;
  manager: { id: string; name: string; email: string } | null;
  hrPartnerId: string;
  department: string | null;
  lastWorkingDay: string;
  revokeAt: Date;
}

export interface BatchDraft {
  id: string;
  mode: 'orchestration' | 'choreography';
  reason: ems.ExitReason;
  revokeAt: Date | null;
  note: string | null;
  idempotencyKey: string;
  fingerprint: string;
  actor: Actor;
  traceparent: string | null;
  createdAt: Date;
  /** Sorted by employee id (code-point order, as PostgreSQL's "C" collation): chunk n is the n-th slice of 500. */
  exits: ExitDraft[];
  /** Steps not done by then are marked late (scaled with the batch: a bigger batch is given longer). */
  expectedBy: Date;
}

export type OpenBatchOutcome = { outcome: 'created' } | { outcome: 'existing' } | { outcome: 'conflict'; detail: string };

/** Leaves the opening transaction without writing anything (a person's open case refused the batch). */
export class Rollback extends Error {
  readonly outcome: { outcome: 'conflict'; detail: string };
  constructor(outcome: { outcome: 'conflict'; detail: string }) {
    super(outcome.detail);
    this.outcome = outcome;
  }
}

export function chunksOf(total: number): number {
  return Math.max(1, Math.ceil(total / EXIT_CHUNK_SIZE));
}

/** Code-point order of ASCII employee ids: the same order as `ORDER BY employee_id COLLATE "C"`. */
export function byEmployeeId(a: { employeeId: string }, b: { employeeId: string }): number {
  return a.employeeId < b.employeeId ? -1 : a.employeeId > b.employeeId ? 1 : 0;
}

export function exitPersonOf(d: ExitDraft): ExitPerson {
  return {
    resignationId: d.resignationId,
    employeeId: d.employeeId,
    employeeName: d.employeeName,
    employeeEmail: d.employeeEmail,
    managerId: d.manager?.id ?? null,
    managerName: d.manager?.name ?? null,
    managerEmail: d.manager?.email ?? null,
    timezone: d.timezone,
    lastWorkingDay: d.lastWorkingDay,
    revokeAt: d.revokeAt.toISOString(),
  };
}

function startedSummary(b: BatchDraft, d: ExitDraft): string {
  return summaries.exitStarted(b.actor.name ?? b.actor.id, b.reason, d.revokeAt.toISOString());
}

/**
 * Opens every case of the batch in the caller's transaction: the batch row (its Idempotency-Key is the
 * arbiter of a repeat), the cases, their three steps and a timeline entry each. `conflict`: a person got
 * an open case meanwhile (the one-open-case index refused) — the caller's transaction must roll back.
 */
export async function openBatch(trx: Transaction<EmsDb>, b: BatchDraft): Promise<OpenBatchOutcome> {
  const inserted = await trx
    .insertInto('exit_batches')
    .values({
      id: b.id,
      mode: b.mode,
      reason: b.reason,
      revoke_at: b.revokeAt,
      note: b.note,
      total: b.exits.length,
      chunks: chunksOf(b.exits.length),
      idempotency_key: b.idempotencyKey,
      request_fingerprint: b.fingerprint,
      created_by: JSON.stringify(b.actor),
      traceparent: b.traceparent,
      created_at: b.createdAt,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return { outcome: 'existing' };

  const col = <T>(f: (d: ExitDraft) => T) => b.exits.map(f);
  const ids = col((d) => d.resignationId);
  const actor = JSON.stringify(b.actor);
  try {
    await sql`
      INSERT INTO ems.resignations (
        id, employee_id, employee_name, employee_email, employee_timezone, manager_id, manager_name, manager_email,
        hr_partner_id, last_working_day, reason, status, mode, correlation_id, traceparent, submitted_at, updated_at,
        decision, decided_at, decision_note, decided_by, decided_last_working_day, revoke_at, decision_revision,
        department, kind, batch_id)
      SELECT u.id, u.employee_id, u.employee_name, u.employee_email, u.timezone, u.manager_id, u.manager_name, u.manager_email,
        u.hr_partner_id, u.last_working_day, ${b.reason}, 'exit_confirmed', ${b.mode}, u.id::text, ${b.traceparent}, ${b.createdAt}, ${b.createdAt},
        'exit_confirmed', ${b.createdAt}, ${b.note}, ${actor}::jsonb, u.last_working_day, u.revoke_at, 1,
        u.department, 'involuntary', ${b.id}::uuid
      FROM unnest(${ids}::uuid[], ${col((d) => d.employeeId)}::text[], ${col((d) => d.employeeName)}::text[], ${col((d) => d.employeeEmail)}::text[],
        ${col((d) => d.timezone)}::text[], ${col((d) => d.manager?.id ?? null)}::text[], ${col((d) => d.manager?.name ?? null)}::text[],
        ${col((d) => d.manager?.email ?? null)}::text[], ${col((d) => d.hrPartnerId)}::text[], ${col((d) => d.lastWorkingDay)}::date[],
        ${col((d) => d.revokeAt.toISOString())}::timestamptz[], ${col((d) => d.department)}::text[])
        AS u(id, employee_id, employee_name, employee_email, timezone, manager_id, manager_name, manager_email, hr_partner_id, last_working_day, revoke_at, department)
    `.execute(trx);
  } catch (err) {
    if ((err as { code?: string; constraint?: string }).code === '23505') return { outcome: 'conflict', detail: (err as Error).message };
    throw err;
  }
  // The three steps of each case: the revocation's deadline follows its own instant.
  await sql`
    INSERT INTO ems.steps (resignation_id, name, status, attempts, expected_by)
    SELECT u.id, s.name, 'pending', 0, CASE WHEN s.name = 'revokeAccess' THEN u.revoke_at + (${b.expectedBy}::timestamptz - ${b.createdAt}::timestamptz) ELSE ${b.expectedBy}::timestamptz END
    FROM unnest(${ids}::uuid[], ${col((d) => d.revokeAt.toISOString())}::timestamptz[]) AS u(id, revoke_at)
    CROSS JOIN (VALUES ('suspendAccess'), ('announceDecision'), ('revokeAccess')) AS s(name)
  `.execute(trx);
  await sql`
    INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key, actor)
    SELECT u.id, ${b.createdAt}, 'ems', 'exit.involuntary-started', u.summary, u.id::text, u.detail, 'exit.started', ${actor}::jsonb
    FROM unnest(${ids}::uuid[], ${col((d) => startedSummary(b, d))}::text[],
      ${col((d) => JSON.stringify({ batchId: b.id, reason: b.reason, lastWorkingDay: d.lastWorkingDay, revokeAt: d.revokeAt.toISOString(), note: b.note }))}::jsonb[]) AS u(id, summary, detail)
  `.execute(trx);
  return { outcome: 'created' };
}

export interface BatchRecord {
  id: string;
  mode: 'orchestration' | 'choreography';
  reason: ems.ExitReason;
  revokeAt: Date | null;
  note: string | null;
  total: number;
  chunks: number;
  fingerprint: string;
  traceparent: string | null;
  createdAt: Date;
  settledAt: Date | null;
  createdBy: Actor | null;
}

export function createExitBatchStore(db: Kysely<EmsDb>) {
  const batchRecord = (r: {
    id: string;
    mode: 'orchestration' | 'choreography';
    reason: ems.ExitReason;
    revoke_at: Date | null;
    note: string | null;
    total: number;
    chunks: number;
    request_fingerprint: string;
    traceparent: string | null;
    created_at: Date;
    settled_at: Date | null;
    created_by: Actor | null;
  }): BatchRecord => ({
    id: r.id,
    mode: r.mode,
    reason: r.reason,
    revokeAt: r.revoke_at,
    note: r.note,
    total: r.total,
    chunks: r.chunks,
    fingerprint: r.request_fingerprint,
    traceparent: r.traceparent,
    createdAt: r.created_at,
    settledAt: r.settled_at,
    createdBy: r.created_by,
  });

  return {
    db,

    async byIdempotencyKey(key: string): Promise<BatchRecord | undefined> {
      const r = await db.selectFrom('exit_batches').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
      return r && batchRecord(r);
    },

    async batch(id: string): Promise<BatchRecord | undefined> {
      const r = await db.selectFrom('exit_batches').selectAll().where('id', '=', id).executeTakeFirst();
      return r && batchRecord(r);
    },

    /**
     * The batches, newest first, a page at a time — from their rows alone (no case is read: a batch's counts are
     * `progress`). Settled: as recorded by the recorders or the last reader of its progress.
     */
    async list(page: { limit: number; offset: number }): Promise<ems.ExitBatchList> {
      const rows = await db
        .selectFrom('exit_batches')
        .select(['id', 'mode', 'reason', 'total', 'created_at', 'created_by', 'settled_at'])
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(page.limit + 1)
        .offset(page.offset)
        .execute();
      return {
        items: rows.slice(0, page.limit).map((r) => ({
          id: r.id,
          mode: r.mode,
          reason: r.reason,
          total: r.total,
          createdAt: new Date(r.created_at).toISOString(),
          createdBy: r.created_by,
          settled: r.settled_at !== null,
          settledAt: r.settled_at ? new Date(r.settled_at).toISOString() : null,
        })),
        nextOffset: rows.length > page.limit ? page.offset + page.limit : null,
      };
    },

    /** Chunk `chunk` (1-based) of a batch: its people, in the order the batch was opened (employee id, code points). */
    async chunk(batchId: string, chunk: number): Promise<ExitPerson[]> {
      const rows = await sql<{
        id: string;
        employee_id: string;
        employee_name: string;
        employee_email: string;
        employee_timezone: string;
        manager_id: string | null;
        manager_name: string | null;
        manager_email: string | null;
        last_working_day: string;
        revoke_at: Date;
      }>`
        SELECT id, employee_id, employee_name, employee_email, employee_timezone, manager_id, manager_name, manager_email,
          to_char(last_working_day, 'YYYY-MM-DD') AS last_working_day, revoke_at
        FROM ems.resignations WHERE batch_id = ${batchId}::uuid
        ORDER BY employee_id COLLATE "C" OFFSET ${(chunk - 1) * EXIT_CHUNK_SIZE} LIMIT ${EXIT_CHUNK_SIZE}
      `.execute(db);
      return rows.rows.map((r) => ({
        resignationId: r.id,
        employeeId: r.employee_id,
        employeeName: r.employee_name,
        employeeEmail: r.employee_email,
        managerId: r.manager_id,
        managerName: r.manager_id ? r.manager_name : null,
        managerEmail: r.manager_id ? r.manager_email : null,
        timezone: r.employee_timezone,
        lastWorkingDay: r.last_working_day,
        revokeAt: new Date(r.revoke_at).toISOString(),
      }));
    },

    /** Which of these people have an open case (any kind): employee id → case id. */
    async openCasesOf(employeeIds: readonly string[]): Promise<Map<string, string>> {
      if (!employeeIds.length) return new Map();
      const rows = await sql<{ employee_id: string; id: string }>`
        SELECT employee_id, id FROM ems.resignations WHERE employee_id = ANY(${[...employeeIds]}::text[]) AND closed_at IS NULL
      `.execute(db);
      return new Map(rows.rows.map((r) => [r.employee_id, r.id]));
    },

    /**
     * The batch's progress and a page of its cases — ONE statement over the batch's cases (the aggregate and
     * the page read the same rows once; at 10,000 people each pass costs PostgreSQL ≈ 0.1 s).
     */
    async progress(id: string, page: { limit: number; offset: number }): Promise<ems.ExitBatch | undefined> {
      const b = await this.batch(id);
      if (!b) return undefined;
      type Status = ems.Resignation['steps']['suspendAccess']['status'];
      const rows = await sql<{
        total: number;
        access_suspended: number;
        notices_sent: number;
        revocations_scheduled: number;
        failed: number;
        exited: number;
        settled: number;
        id: string | null;
        employee_id: string;
        employee_name: string;
        status: ems.CaseStatus;
        b: Status;
        n: Status;
        v: Status | null;
        revoke_at: Date;
      }>`
        WITH c AS MATERIALIZED (
          SELECT r.id, r.employee_id, r.employee_name, r.status, r.revoke_at, b.status AS b, n.status AS n, v.status AS v,
            b.status = 'done' AND b.result ? 'revocationId' AS scheduled
          FROM ems.resignations r
          JOIN ems.steps b ON b.resignation_id = r.id AND b.name = 'suspendAccess'
          JOIN ems.steps n ON n.resignation_id = r.id AND n.name = 'announceDecision'
          LEFT JOIN ems.steps v ON v.resignation_id = r.id AND v.name = 'revokeAccess'
          WHERE r.batch_id = ${id}::uuid
        ), counts AS (
          SELECT count(*)::int AS total,
            count(*) FILTER (WHERE c.b = 'done')::int AS access_suspended,
            count(*) FILTER (WHERE c.n = 'done')::int AS notices_sent,
            count(*) FILTER (WHERE c.scheduled)::int AS revocations_scheduled,
            count(*) FILTER (WHERE c.b = 'failed' OR c.n = 'failed' OR c.v = 'failed')::int AS failed,
            count(*) FILTER (WHERE c.status = 'exited')::int AS exited,
            count(*) FILTER (WHERE c.b IN ('done', 'failed') AND c.n IN ('done', 'failed'))::int AS settled
          FROM c
        )
        SELECT counts.*, p.id, p.employee_id, p.employee_name, p.status, p.b, p.n, p.v, p.revoke_at
        FROM counts LEFT JOIN LATERAL (
          SELECT * FROM c ORDER BY c.employee_id COLLATE "C" OFFSET ${page.offset} LIMIT ${page.limit + 1}
        ) p ON true
      `.execute(db);
      const c = rows.rows[0]!;
      const settled = c.total > 0 && c.settled === c.total;
      let settledAt = b.settledAt;
      // Settled since the batch row was read (or its last chunk recorded, not yet marked): this reader marks it,
      // or the recorder that just did (re-read).
      if (settled && !settledAt) settledAt = (await markSettled(db, id)) ?? (await this.batch(id))?.settledAt ?? null;
      const cases = { rows: rows.rows.filter((r): r is typeof r & { id: string } => r.id !== null) };
      const items = cases.rows.slice(0, page.limit).map((r) => ({
        resignationId: r.id,
        employeeId: r.employee_id,
        employeeName: r.employee_name,
        status: r.status,
        accessSuspended: r.b,
        noticesSent: r.n,
        accessRevoked: r.v ?? 'pending',
        revokeAt: new Date(r.revoke_at).toISOString(),
      }));
      return {
        id: b.id,
        mode: b.mode,
        reason: b.reason,
        revokeAt: b.revokeAt ? new Date(b.revokeAt).toISOString() : null,
        total: c.total,
        chunks: b.chunks,
        accessSuspended: c.access_suspended,
        noticesSent: c.notices_sent,
        revocationsScheduled: c.revocations_scheduled,
        failed: c.failed,
        exited: c.exited,
        settled,
        createdAt: new Date(b.createdAt).toISOString(),
        settledAt: settledAt ? new Date(settledAt).toISOString() : null,
        createdBy: b.createdBy,
        cases: { items, nextOffset: cases.rows.length > page.limit ? page.offset + page.limit : null },
      };
    },
  };
}

/**
 * The first time a batch is found settled, its instant is kept. The recorders mark it chunk by chunk
 * (record-exit-outcomes.ts); a reader that finds every case settled before the mark (orchestration records
 * and marks in two statements) marks it here, reading the whole batch once.
 */
export async function markSettled(db: Kysely<EmsDb> | Transaction<EmsDb>, id: string): Promise<Date | null> {
  const r = await sql<{ settled_at: Date }>`
    UPDATE ems.exit_batches SET settled_at = now()
    WHERE id = ${id}::uuid AND settled_at IS NULL AND NOT EXISTS (
      SELECT 1 FROM ems.resignations r
      JOIN ems.steps b ON b.resignation_id = r.id AND b.name = 'suspendAccess'
      JOIN ems.steps n ON n.resignation_id = r.id AND n.name = 'announceDecision'
      WHERE r.batch_id = ${id}::uuid AND (b.status NOT IN ('done', 'failed') OR n.status NOT IN ('done', 'failed')))
    RETURNING settled_at
  `.execute(db);
  return r.rows[0]?.settled_at ?? null;
}

export type ExitBatchStore = ReturnType<typeof createExitBatchStore>;
