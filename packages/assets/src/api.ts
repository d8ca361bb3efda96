import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, ListOf, PageQuery, Uuid } from '@ems/contracts';

/** The extension's HTTP API. Its schemas live here: @ems/contracts describes the core services only. */

export const RecoveryTaskStatus = z.enum(['open', 'done']);

export const RecoveryTask = z
  .object({
    id: Uuid,
    resignationId: Uuid,
    employeeId: EmployeeId,
    items: z.array(z.string()),
    dueDate: IsoDate,
    status: RecoveryTaskStatus,
    createdAt: IsoDateTime,
    completedAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'AssetRecoveryTask', description: "A task to collect a leaver's equipment by their last working day." });
export type RecoveryTask = z.infer<typeof RecoveryTask>;

export const RecoveryTaskList = ListOf(RecoveryTask).meta({ id: 'AssetRecoveryTaskList' });
export type RecoveryTaskList = z.infer<typeof RecoveryTaskList>;

export const RecoveryTaskListQuery = PageQuery.extend({
  resignationId: Uuid.optional(),
  employeeId: EmployeeId.optional(),
  status: RecoveryTaskStatus.optional(),
});
export type RecoveryTaskListQuery = z.infer<typeof RecoveryTaskListQuery>;

export const AssetsPaths = {
  tasks: '/api/asset-recovery-tasks',
  task: (id: string) => `/api/asset-recovery-tasks/${encodeURIComponent(id)}`,
  complete: (id: string) => `/api/asset-recovery-tasks/${encodeURIComponent(id)}/complete`,
} as const;
