import type { AssetsContext } from '../assets.context.ts';
import type { AssetsTx, RecoveryTaskRow } from '../db/assets.db.ts';

export interface OpenRecoveryTaskRequest {
  resignationId: string;
  employeeId: string;
  /** The leaver's last working day, 'YYYY-MM-DD': the task is due then. */
  lastWorkingDay: string;
}

export interface OpenRecoveryTaskResult {
  task: RecoveryTaskRow;
  /** false when the resignation already had its task (this changed nothing). */
  created: boolean;
}

/**
 * Opens the task to collect a leaver's equipment — the configured items — due on their last working
 * day. One task per resignation: if it exists, it is answered unchanged. Runs in the caller's
 * transaction, so the caller can publish the outcome in the same commit.
 */
export async function openRecoveryTask(ctx: Pick<AssetsContext, 'clock' | 'items'>, trx: AssetsTx, request: OpenRecoveryTaskRequest): Promise<OpenRecoveryTaskResult> {
  const inserted = await trx
    .insertInto('recovery_tasks')
    .values({
      id: crypto.randomUUID(),
      resignation_id: request.resignationId,
      employee_id: request.employeeId,
      items: [...ctx.items],
      due_date: request.lastWorkingDay,
      created_at: ctx.clock.now(),
    })
    // The unique resignation id decides races: the loser reads the winner's task.
    .onConflict((oc) => oc.column('resignation_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { task: inserted, created: true };
  const existing = await trx.selectFrom('recovery_tasks').selectAll().where('resignation_id', '=', request.resignationId).executeTakeFirstOrThrow();
  return { task: existing, created: false };
}
