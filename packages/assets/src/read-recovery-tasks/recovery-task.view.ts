import type { RecoveryTask } from '../api.ts';
import type { RecoveryTaskRow } from '../db/assets.db.ts';

/** Row → API shape: the only place a task row turns into a response. */
export function toRecoveryTask(row: RecoveryTaskRow): RecoveryTask {
  return {
    id: row.id,
    resignationId: row.resignation_id,
    employeeId: row.employee_id,
    items: [...row.items],
    dueDate: row.due_date,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at ? row.completed_at.toISOString() : null,
  };
}
