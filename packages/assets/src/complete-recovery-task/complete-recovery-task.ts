import { notFound } from '@ems/platform';
import type { RecoveryTask } from '../api.ts';
import type { AssetsContext } from '../assets.context.ts';
import { toRecoveryTask } from '../read-recovery-tasks/recovery-task.view.ts';

/**
 * Marks a recovery task done: everything was handed back. Completing a done task answers it
 * unchanged (the first completion time stays), so the call is safe to repeat.
 */
export async function completeRecoveryTask(ctx: Pick<AssetsContext, 'db' | 'clock' | 'log'>, taskId: string): Promise<RecoveryTask> {
  // One conditional UPDATE: of two concurrent completions exactly one changes the row.
  const completed = await ctx.db
    .updateTable('recovery_tasks')
    .set({ status: 'done', completed_at: ctx.clock.now() })
    .where('id', '=', taskId)
    .where('status', '=', 'open')
    .returningAll()
    .executeTakeFirst();
  if (completed) {
    ctx.log.info({ taskId, resignationId: completed.resignation_id }, 'asset recovery task completed');
    return toRecoveryTask(completed);
  }
  const task = await ctx.db.selectFrom('recovery_tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
  if (!task) throw notFound(`No asset recovery task ${taskId}`);
  return toRecoveryTask(task);
}
