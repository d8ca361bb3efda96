import { notFound, paged } from '@ems/platform';
import type { RecoveryTask, RecoveryTaskList, RecoveryTaskListQuery } from '../api.ts';
import type { AssetsDb } from '../db/assets.db.ts';
import { toRecoveryTask } from './recovery-task.view.ts';

/** Recovery tasks, oldest first, optionally for one resignation, one employee or one status. */
export async function listRecoveryTasks(db: AssetsDb, query: RecoveryTaskListQuery): Promise<RecoveryTaskList> {
  let q = db.selectFrom('recovery_tasks').selectAll();
  if (query.resignationId) q = q.where('resignation_id', '=', query.resignationId);
  if (query.employeeId) q = q.where('employee_id', '=', query.employeeId);
  if (query.status) q = q.where('status', '=', query.status);
  const rows = await q.orderBy('created_at').orderBy('id').limit(query.limit + 1).offset(query.offset).execute();
  const page = paged(rows, query);
  return { items: page.items.map(toRecoveryTask), nextOffset: page.nextOffset };
}

export async function getRecoveryTask(db: AssetsDb, id: string): Promise<RecoveryTask> {
  const row = await db.selectFrom('recovery_tasks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`No asset recovery task ${id}`);
  return toRecoveryTask(row);
}
