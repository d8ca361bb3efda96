import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { EmsDb } from '../db/types.ts';
import type { CaseStatus } from '../domain/resignation.ts';
import type { CaseDraft } from '../resignations/case.types.ts';
import { draftFromRow } from '../resignations/case.view.ts';
import { REACTIONS_ID_SUFFIX } from './resignation.workflow.ts';

/**
 * Orchestration: the cases whose workflows the sweeper starts. Both read DBOS's own `workflow_status` table
 * (schema `workflowSchema`, in EMS's database), as workflows-of-other-versions.ts does; oldest first, a batch
 * at a time.
 */
export function casesWithoutWorkflow(db: Kysely<EmsDb>, workflowSchema: string) {
  /** Orchestrated cases in `statuses`, submitted before `before`, with no workflow whose id is the case's followed by `suffix`. */
  const unstarted = async (statuses: readonly CaseStatus[], suffix: string, narrow: (eb: ExpressionBuilder<EmsDb, 'resignations'>) => ReturnType<ExpressionBuilder<EmsDb, 'resignations'>['and']>, before: Date, limit: number): Promise<CaseDraft[]> => {
    const rows = await db
      .selectFrom('resignations')
      .selectAll()
      .where('mode', '=', 'orchestration')
      .where('status', 'in', statuses)
      .where('submitted_at', '<', before)
      .where(narrow)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom(sql.table(`${workflowSchema}.workflow_status`).as('w')).select(sql.lit(1).as('one')).where(sql.ref('w.workflow_uuid'), '=', sql`resignations.id::text || ${sql.lit(suffix)}`))),
      )
      .orderBy('submitted_at')
      .limit(limit)
      .execute();
    return rows.map(draftFromRow);
  };
  return {
    /** Cases opened before `openedBefore` whose reactions workflow was never started (their opener stopped between opening the case and starting it). */
    reactions: (openedBefore: Date, limit: number): Promise<CaseDraft[]> => unstarted(['in_progress'], REACTIONS_ID_SUFFIX, (eb) => eb.and([]), openedBefore, limit),
    /**
     * Resignations submitted before `submittedBefore` whose reactions have settled and which wait for a decision
     * with no decision workflow yet (none came): the sweeper starts it once the first follow-up can be due. (An
     * involuntary exit has no decision phase: its batch's workflow drives it, exits.workflow.ts.)
     */
    decision: (submittedBefore: Date, limit: number): Promise<CaseDraft[]> =>
      unstarted(['awaiting_decision', 'action_required'], '', (eb) => eb.and([eb('kind', '=', 'resignation'), eb('closed_at', 'is', null)]), submittedBefore, limit),
  };
}
