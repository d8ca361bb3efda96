import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { arrayParam } from '@ems/platform';
import type { EmsDb } from '../db/types.ts';
import type { CaseDraft } from '../resignations/case.types.ts';
import { draftFromRow } from '../resignations/case.view.ts';
import { REACTIONS_ID_SUFFIX } from './resignation.workflow.ts';
import type { DueDecision } from './decision.workflow.ts';

/**
 * Orchestration: the cases whose workflows EMS's sweeper starts, oldest first, a batch at a time.
 */

export function casesWithoutWorkflow(db: Kysely<EmsDb>, workflowSchema: string) {
  /** DBOS's row of the workflow whose id is the case's, followed by `suffix` (none: the decision workflow's id is the case's). */
  const workflowWithId = (eb: ExpressionBuilder<EmsDb, 'resignations'>, suffix?: string) =>
    eb
      .selectFrom(sql.table(`${workflowSchema}.workflow_status`).as('w'))
      .select(sql.lit(1).as('one'))
      .where(sql.ref('w.workflow_uuid'), '=', suffix === undefined ? sql`resignations.id::text` : sql`resignations.id::text || ${sql.lit(suffix)}`);
  return {
    /**
     * Cases opened before `openedBefore` whose reactions workflow was never started (their opener stopped between
     * opening the case and starting it). Reads DBOS's own `workflow_status` table (schema `workflowSchema`, in EMS's
     * database), as workflows-of-other-versions.ts does: a case is in progress only while its reactions run, so
     * the probe per case is bounded by the cases in flight.
     */
    reactions: async (openedBefore: Date, limit: number): Promise<CaseDraft[]> => {
      const rows = await db
        .selectFrom('resignations')
        .selectAll()
        .where('mode', '=', 'orchestration')
        .where('status', '=', 'in_progress')
        .where('submitted_at', '<', openedBefore)
        .where((eb) => eb.not(eb.exists(workflowWithId(eb, REACTIONS_ID_SUFFIX))))
        .orderBy('submitted_at')
        .limit(limit)
        .execute();
      return rows.map(draftFromRow);
    },

    /**
     * Resignations submitted before `submittedBefore` whose reactions have settled, which wait for a decision, and
     * which the sweeper has not marked (`decisionStarted`); each with whether a workflow with the case's id
     * exists already — a decision started it, or an earlier version's workflow has that id. The sweeper starts the
     * others once the first follow-up can be due, and marks them all: each case is read here until it is marked,
     * then never again. (An involuntary exit has no decision phase: its batch's workflow drives it,
     * exits.workflow.ts.) The case's conditions are the text of the partial index `resignations_decision_unstarted`
     * (migration 18), not parameters, so a generic plan reads that index: only the cases still to mark, however
     * many wait; DBOS's `workflow_status` (schema `workflowSchema`) is probed for those alone.
     */
    decision: async (submittedBefore: Date, limit: number): Promise<DueDecision[]> => {
      const rows = await db
        .selectFrom('resignations')
        .selectAll('resignations')
        .select((eb) => eb.exists(workflowWithId(eb)).as('workflow_exists'))
        .where(
          sql<boolean>`mode = 'orchestration' AND kind = 'resignation' AND closed_at IS NULL AND decision_workflow_started_at IS NULL AND status IN ('awaiting_decision', 'action_required')`,
        )
        .where('submitted_at', '<', submittedBefore)
        .orderBy('submitted_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ draft: draftFromRow(r), workflowExists: Boolean(r.workflow_exists) }));
    },

    /** Marks these cases' decision workflows started (`at`, the injected clock): the due scan skips them from then. */
    decisionStarted: async (caseIds: readonly string[], at: Date): Promise<void> => {
      if (caseIds.length === 0) return;
      await db
        .updateTable('resignations')
        .set({ decision_workflow_started_at: at })
        .where(sql<boolean>`id = any(${arrayParam([...caseIds], 'uuid')})`)
        .where('decision_workflow_started_at', 'is', null)
        .execute();
    },
  };
}
