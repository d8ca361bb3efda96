import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { EmsDb } from '../db/types.ts';
import type { CaseDraft } from '../resignations/case.types.ts';
import { draftFromRow } from '../resignations/case.view.ts';
import { REACTIONS_ID_SUFFIX } from './resignation.workflow.ts';

/**
 * Orchestration: the cases whose workflows the sweeper starts. Both read DBOS's own `workflow_status` table
 * (schema `workflowSchema`, in EMS's database), as workflows-of-other-versions.ts does; oldest first, a batch
 * at a time.
 */
export function casesWithoutWorkflow(db: Kysely<EmsDb>, workflowSchema: string) {
  const withoutWorkflow = (suffix: string) => (eb: ExpressionBuilder<EmsDb, 'resignations'>) =>
    eb.not(eb.exists(eb.selectFrom(sql.table(`${workflowSchema}.workflow_status`).as('w')).select(sql.lit(1).as('one')).where(sql.ref('w.workflow_uuid'), '=', sql`resignations.id::text || ${sql.lit(suffix)}`)));
  const drafts = (rows: Parameters<typeof draftFromRow>[0][]) => rows.map(draftFromRow);
  return {
    /** Cases opened before `openedBefore` whose reactions workflow was never started (their opener stopped between opening the case and starting it). */
    reactions: async (openedBefore: Date, limit: number): Promise<CaseDraft[]> => {
      const rows = await db
        .selectFrom('resignations')
        .selectAll()
        .where('mode', '=', 'orchestration')
        .where('status', '=', 'in_progress')
        .where('submitted_at', '<', openedBefore)
        .where(withoutWorkflow(REACTIONS_ID_SUFFIX))
        .orderBy('submitted_at')
        .limit(limit)
        .execute();
      return drafts(rows);
    },
    /**
     * Resignations submitted before `submittedBefore` whose reactions have settled and which wait for a decision
     * with no decision workflow yet (none came): the sweeper starts it once the first follow-up can be due. (An
     * involuntary exit has no decision phase: its batch's workflow drives it, exits.workflow.ts.)
     */
    decision: async (submittedBefore: Date, limit: number): Promise<CaseDraft[]> => {
      const rows = await db
        .selectFrom('resignations')
        .selectAll()
        .where('mode', '=', 'orchestration')
        .where('kind', '=', 'resignation')
        .where('status', 'in', ['awaiting_decision', 'action_required'])
        .where('closed_at', 'is', null)
        .where('submitted_at', '<', submittedBefore)
        .where(withoutWorkflow(''))
        .orderBy('submitted_at')
        .limit(limit)
        .execute();
      return drafts(rows);
    },
  };
}
