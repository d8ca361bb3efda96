import { sql, type Kysely } from 'kysely';
import type { EmsDb } from '../db/types.ts';
import type { CaseDraft } from '../resignations/case.types.ts';
import { draftFromRow } from '../resignations/case.view.ts';

/**
 * Orchestration: cases opened before `openedBefore` that have no workflow (their opener stopped
 * between opening the case and starting it), oldest first, a batch at a time. Reads DBOS's own
 * `workflow_status` table (schema `workflowSchema`, in EMS's database), as workflows-of-other-versions.ts does.
 */
export function casesWithoutWorkflow(db: Kysely<EmsDb>, workflowSchema: string) {
  return async (openedBefore: Date, limit: number): Promise<CaseDraft[]> => {
    const rows = await db
      .selectFrom('resignations')
      .selectAll()
      .where('mode', '=', 'orchestration')
      .where('status', '=', 'in_progress')
      .where('submitted_at', '<', openedBefore)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom(sql.table(`${workflowSchema}.workflow_status`).as('w')).select(sql.lit(1).as('one')).where(sql.ref('w.workflow_uuid'), '=', sql`resignations.id::text`))),
      )
      .orderBy('submitted_at')
      .limit(limit)
      .execute();
    return rows.map(draftFromRow);
  };
}
