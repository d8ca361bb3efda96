/*
 * What Access and Notification did for a chunk of involuntary exits, recorded on each case — set-based:
 * one UPDATE of the chunk's steps and one INSERT of its timeline entries per outcome kind, whatever the
 * chunk's size. Both modes call these: choreography's tracker with the event (deduplicated by its id),
 * orchestration's workflow with the command's answer (idempotent by the steps' own state: a step done is
 * never done again, a timeline entry has a dedupe key).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { ExitAccessSuspended, ExitNoticesSent } from '@ems/contracts/events';
import { EventTypes } from '@ems/contracts/events';
import type { z } from 'zod';
import type { EmsDb } from '../db/types.ts';
import { summaries } from '../domain/summaries.ts';

type Suspended = z.infer<typeof ExitAccessSuspended>;
type Noticed = z.infer<typeof ExitNoticesSent>;

export const NOT_TOLD_WITHOUT_SUSPENSION = 'not told: access was not suspended (the notice says it is)';

type Db = Transaction<EmsDb> | Kysely<EmsDb>;

/**
 * A step done on each of `rows`' cases (unless already done): its result stored, the case touched, one
 * timeline entry each (deduplicated by `dedupeKey`) — one statement for the whole chunk. `closeExited`:
 * a case whose access was already revoked closes now (the last step it awaited).
 */
async function recordStepsDone(
  trx: Db,
  step: 'suspendAccess' | 'announceDecision',
  rows: ReadonlyArray<{ resignationId: string; result: string; summary: string }>,
  entry: { at: Date; service: string; type: string; dedupeKey: string; batchId: string; chunk: number; eventId: string | null; closeExited: boolean },
): Promise<void> {
  if (!rows.length) return;
  const { at } = entry;
  await sql`
    WITH u AS (
      SELECT * FROM unnest(${rows.map((x) => x.resignationId)}::uuid[], ${rows.map((x) => x.result)}::jsonb[], ${rows.map((x) => x.summary)}::text[]) AS u(id, result, summary)
    ), moved AS (
      UPDATE ems.steps st SET status = 'done', at = ${at}, attempts = greatest(st.attempts, 1), last_error = NULL, result = u.result
      -- = ANY(ids) beside the join: the steps' primary key finds the chunk's rows (the join alone read every step).
      FROM u WHERE st.resignation_id = ANY(${rows.map((x) => x.resignationId)}::uuid[]) AND st.resignation_id = u.id AND st.name = ${step}::text
        AND st.status IN ('pending', 'late', 'failed')
      RETURNING st.resignation_id
    ), touched AS (
      UPDATE ems.resignations r SET updated_at = ${at},
        closed_at = CASE WHEN ${entry.closeExited}::boolean AND r.status = 'exited' AND r.closed_at IS NULL THEN ${at}::timestamptz ELSE r.closed_at END
      FROM moved WHERE r.id = moved.resignation_id RETURNING r.id, r.correlation_id
    )
    INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key)
    SELECT t.id, ${at}::timestamptz, ${entry.service}::text, ${entry.type}::text, u.summary, t.correlation_id,
      jsonb_build_object('batchId', ${entry.batchId}::text, 'chunk', ${entry.chunk}::int, 'eventId', ${entry.eventId}::text), ${entry.dedupeKey}::text
    FROM touched t JOIN u ON u.id = t.id
    ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
  `.execute(trx);
}

/** Each person's step result: what the participant reported, with the batch, chunk and event it came in. */
const resultOf = (x: object, data: { batchId: string; chunk: number }, eventId: string | null) =>
  JSON.stringify({ ...x, batchId: data.batchId, chunk: data.chunk, ...(eventId ? { eventId } : {}) });

/** Each suspended person: suspendAccess done; each failed one: suspendAccess failed, and no notice (announceDecision failed). */
export async function recordAccessSuspended(trx: Db, data: Suspended, at: Date, eventId: string | null): Promise<void> {
  await recordStepsDone(
    trx,
    'suspendAccess',
    data.suspended.map((x) => ({
      resignationId: x.resignationId,
      result: resultOf(x, data, eventId),
      summary: summaries.exitAccessSuspended(x.grants, x.revokeAt),
    })),
    { at, service: 'access', type: EventTypes.exitAccessSuspended, dedupeKey: 'exit.access-suspended', batchId: data.batchId, chunk: data.chunk, eventId, closeExited: false },
  );
  if (data.failed.length) {
    const f = data.failed;
    await sql`
      WITH u AS (SELECT * FROM unnest(${f.map((x) => x.resignationId)}::uuid[], ${f.map((x) => x.reason)}::text[], ${f.map((x) => summaries.exitAccessSuspensionFailed(x.reason))}::text[]) AS u(id, reason, summary)),
      failed AS (
        UPDATE ems.steps st SET status = 'failed', at = ${at}, attempts = greatest(st.attempts, 1),
          last_error = CASE WHEN st.name = 'suspendAccess' THEN u.reason ELSE ${NOT_TOLD_WITHOUT_SUSPENSION} END
        FROM u WHERE st.resignation_id = ANY(${f.map((x) => x.resignationId)}::uuid[]) AND st.resignation_id = u.id
          AND st.name IN ('suspendAccess', 'announceDecision') AND st.status IN ('pending', 'late')
        RETURNING st.resignation_id, st.name
      ), touched AS (
        UPDATE ems.resignations r SET updated_at = ${at} FROM (SELECT DISTINCT resignation_id FROM failed) x WHERE r.id = x.resignation_id RETURNING r.id, r.correlation_id
      )
      INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key)
      SELECT t.id, ${at}::timestamptz, 'access', 'exit.access-suspension-failed', u.summary,
        t.correlation_id, jsonb_build_object('batchId', ${data.batchId}::text, 'chunk', ${data.chunk}::int, 'error', u.reason), 'exit.access-suspension-failed'
      FROM touched t JOIN u ON u.id = t.id
      ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
    `.execute(trx);
  }
  await settleChunk(trx, data.batchId, data.chunk, [...data.suspended, ...data.failed].map((x) => x.resignationId));
}

/** Each told person: announceDecision done (the case closes if its access is already revoked); each failed one: failed. */
export async function recordNoticesSent(trx: Db, data: Noticed, at: Date, eventId: string | null): Promise<void> {
  // A case whose access was revoked before its notices were recorded closes now (the tracker closed none: a step was awaited).
  await recordStepsDone(
    trx,
    'announceDecision',
    data.sent.map((x) => ({ resignationId: x.resignationId, result: resultOf(x, data, eventId), summary: summaries.exitNoticesSent(x) })),
    { at, service: 'notification', type: EventTypes.exitNoticesSent, dedupeKey: 'exit.notices-sent', batchId: data.batchId, chunk: data.chunk, eventId, closeExited: true },
  );
  if (data.failed.length) {
    const f = data.failed;
    await sql`
      WITH u AS (SELECT * FROM unnest(${f.map((x) => x.resignationId)}::uuid[], ${f.map((x) => x.reason)}::text[], ${f.map((x) => summaries.exitNoticesFailed(x.reason))}::text[]) AS u(id, reason, summary)),
      failed AS (
        UPDATE ems.steps st SET status = 'failed', at = ${at}, attempts = greatest(st.attempts, 1), last_error = u.reason
        FROM u WHERE st.resignation_id = ANY(${f.map((x) => x.resignationId)}::uuid[]) AND st.resignation_id = u.id
          AND st.name = 'announceDecision' AND st.status IN ('pending', 'late')
        RETURNING st.resignation_id
      ), touched AS (
        UPDATE ems.resignations r SET updated_at = ${at} FROM failed WHERE r.id = failed.resignation_id RETURNING r.id, r.correlation_id
      )
      INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key)
      SELECT t.id, ${at}::timestamptz, 'notification', 'exit.notices-failed', u.summary, t.correlation_id,
        jsonb_build_object('batchId', ${data.batchId}::text, 'chunk', ${data.chunk}::int, 'error', u.reason), 'exit.notices-failed'
      FROM touched t JOIN u ON u.id = t.id
      ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
    `.execute(trx);
  }
  await settleChunk(trx, data.batchId, data.chunk, [...data.sent, ...data.failed].map((x) => x.resignationId));
}

/**
 * After a chunk's outcome is recorded: when none of `ids` (the people the outcome named) awaits its
 * suspension or notices any more, the chunk is settled — added once to the batch's chunks_settled — and the
 * batch with it when that was its last chunk. One statement over the chunk's rows, never the whole batch.
 *
 * Why `ids` is enough: Access's outcome names every person of the chunk, and Notification's every person
 * Access reported suspended (the others' notices were failed with their suspension). Whichever of the two is
 * recorded second sees the first: both update the same cases' rows, so the second waits for the first's commit,
 * and this statement, later in its transaction, reads it.
 */
async function settleChunk(trx: Db, batchId: string, chunk: number, ids: readonly string[]): Promise<void> {
  await sql`
    UPDATE ems.exit_batches b
       SET chunks_settled = b.chunks_settled || ${chunk}::int,
           settled_at = CASE WHEN b.settled_at IS NULL AND cardinality(b.chunks_settled) + 1 >= b.chunks THEN now() ELSE b.settled_at END
     WHERE b.id = ${batchId}::uuid AND NOT (${chunk}::int = ANY(b.chunks_settled))
       AND NOT EXISTS (
         SELECT 1 FROM ems.steps st
          WHERE st.resignation_id = ANY(${[...ids]}::uuid[]) AND st.name IN ('suspendAccess', 'announceDecision') AND st.status NOT IN ('done', 'failed'))
  `.execute(trx);
}

/** Stands for the employee's name in a sentence worded here and completed in SQL with the case's own. */
const EMPLOYEE = '\u2063employee\u2063';

/**
 * Orchestration: Access revoked every grant of an involuntary case (accessRevoked, at its revokeAt) → the
 * revokeAccess step done, the case `exited` (closed once its notices are recorded too). Choreography's case
 * tracker does the same for every case; a resignation's workflow records its own. False: not an involuntary case.
 */
export async function recordExitRevoked(trx: Transaction<EmsDb>, data: { resignationId: string; revokedAt: string; revoked: unknown[] }, at: Date, eventId: string): Promise<boolean> {
  const r = await sql<{ id: string }>`
    WITH moved AS (
      UPDATE ems.steps st SET status = 'done', at = ${new Date(data.revokedAt)}, attempts = greatest(st.attempts, 1), last_error = NULL,
        result = ${JSON.stringify({ ...data, eventId })}::jsonb
      FROM ems.resignations r
      WHERE r.id = ${data.resignationId}::uuid AND r.kind = 'involuntary' AND st.resignation_id = r.id AND st.name = 'revokeAccess' AND st.status IN ('pending', 'late', 'failed')
      RETURNING st.resignation_id
    ), exited AS (
      UPDATE ems.resignations r SET status = 'exited', updated_at = ${at},
        closed_at = CASE WHEN EXISTS (SELECT 1 FROM ems.steps n WHERE n.resignation_id = r.id AND n.name = 'announceDecision' AND n.status = 'done') THEN ${at}::timestamptz ELSE r.closed_at END
      FROM moved WHERE r.id = moved.resignation_id
      RETURNING r.id, r.correlation_id, r.employee_name, r.closed_at
    )
    INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key)
    SELECT e.id, ${new Date(data.revokedAt)}::timestamptz, 'access', ${EventTypes.accessRevoked}, ${summaries.exitRevoked(data.revoked.length)}::text, e.correlation_id,
      jsonb_build_object('eventId', ${eventId}::text), 'event.' || ${eventId}::text FROM exited e
    UNION ALL
    SELECT e.id, ${at}::timestamptz, 'ems', 'case.exited', replace(${summaries.exited(EMPLOYEE)}::text, ${EMPLOYEE}::text, e.employee_name), e.correlation_id, '{}'::jsonb, 'exited' FROM exited e
    UNION ALL
    SELECT e.id, ${at}::timestamptz, 'ems', 'case.closed', ${summaries.closed('exited')}::text, e.correlation_id, '{}'::jsonb, 'closed' FROM exited e WHERE e.closed_at IS NOT NULL
    ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
    RETURNING resignation_id
  `.execute(trx);
  return r.rows.length > 0;
}
