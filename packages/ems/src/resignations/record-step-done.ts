/*
 * A step of a case done, as the orchestrator records it the moment a participant answers (tracked-step.ts):
 * the step marked done (first writer wins; a retried writer changes nothing), the case touched, and one
 * timeline entry (deduplicated by `<step>.done`).
 *
 * In a burst every case records three of these, each an autocommit statement of its own. The records asked
 * for while another batch is being written go together in the next one (platform's groupCommit): one
 * statement, one commit, a row per record. A record made when nothing else is being written goes at once,
 * alone, so at a low rate nothing waits.
 */
import { sql, type Kysely } from 'kysely';
import { arrayParam, groupCommit, type Clock } from '@ems/platform';
import type { EmsDb } from '../db/types.ts';
import type { StepName } from '../domain/resignation.ts';
import type { TimelineInput } from './case.types.ts';

/** What a step came to, as the case records it: the participant's result and its timeline entry. */
export type StepDone = Omit<TimelineInput, 'dedupeKey'> & { result: unknown; attempts: number };

interface Done {
  id: string;
  step: StepName;
  at: Date;
  entry: StepDone;
}

/** The most records in one statement. */
const STEPS_DONE_BATCH = 64;

/** `recordStepDone(id, step, entry)`: group-committed; rejects for a case that does not exist (that record only). */
export function stepsDoneTogether(db: Kysely<EmsDb>, clock: Clock): (id: string, step: StepName, entry: StepDone) => Promise<void> {
  const record = groupCommit<Done, void>({
    together: async (batch) => {
      const existing = await recordAll(db, batch);
      return batch.map((r) => (existing.has(r.id) ? { ok: true as const, value: undefined } : { ok: false as const, error: noSuchCase(r.id) }));
    },
    alone: async (r) => {
      if (!(await recordAll(db, [r])).has(r.id)) throw noSuchCase(r.id);
    },
    max: STEPS_DONE_BATCH,
    // One batch at a time: two at once could lock the same cases in opposite orders (a deadlock, seen only after deadlock_timeout).
    atOnce: 1,
  });
  return (id, step, entry) => record({ id, step, at: entry.at ?? clock.now(), entry });
}

const noSuchCase = (id: string) => new Error(`case ${id} does not exist`);

/**
 * The batch's records in ONE statement (data-modifying CTEs run whether or not the insert reads them); the ids
 * of the cases that exist. A case named twice (two of its steps) is touched once, at the later of the two times.
 */
async function recordAll(db: Kysely<EmsDb>, batch: readonly Done[]): Promise<Set<string>> {
  const ids = batch.map((r) => r.id);
  const { rows } = await sql<{ id: string }>`
    WITH u AS (
      -- A step named twice in one batch (two writers at once): the first of them, for its step and its entry alike.
      SELECT DISTINCT ON (id, step) * FROM unnest(
        ${arrayParam(ids, 'uuid')}, ${arrayParam(batch.map((r) => r.step), 'text')}, ${arrayParam(batch.map((r) => r.at), 'timestamptz')},
        ${arrayParam(batch.map((r) => JSON.stringify(r.entry.result)), 'jsonb')}, ${arrayParam(batch.map((r) => r.entry.attempts), 'int')},
        ${arrayParam(batch.map((r) => r.entry.service), 'text')}, ${arrayParam(batch.map((r) => r.entry.type), 'text')}, ${arrayParam(batch.map((r) => r.entry.summary), 'text')},
        ${arrayParam(batch.map((r) => JSON.stringify(r.entry.detail ?? {})), 'jsonb')}
      ) WITH ORDINALITY AS u(id, step, at, result, attempts, service, type, summary, detail, ord)
      ORDER BY id, step, ord
    ), s AS (
      UPDATE ems.steps st SET status = 'done', at = u.at, result = u.result, attempts = greatest(st.attempts, u.attempts), last_error = NULL
      -- = ANY(ids) beside the join: the steps' primary key finds the batch's rows.
      FROM u WHERE st.resignation_id = ANY(${arrayParam(ids, 'uuid')}) AND st.resignation_id = u.id AND st.name = u.step
        AND st.status IN ('pending', 'late', 'failed')
      RETURNING st.resignation_id
    ), r AS (
      UPDATE ems.resignations c SET updated_at = x.at
      FROM (SELECT id, max(at) AS at FROM u GROUP BY id) x WHERE c.id = ANY(${arrayParam(ids, 'uuid')}) AND c.id = x.id
      RETURNING c.id, c.correlation_id
    ), entries AS (
      INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, detail, dedupe_key)
      SELECT u.id, u.at, u.service, u.type, u.summary, r.correlation_id, u.detail, u.step || '.done'
      FROM u JOIN r ON r.id = u.id ORDER BY u.ord
      ON CONFLICT (resignation_id, dedupe_key) DO NOTHING
    )
    SELECT id FROM r
  `.execute(db);
  return new Set(rows.map((x) => x.id));
}
