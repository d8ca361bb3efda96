import type { CloudEvent } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import type { RecoveryTaskRow } from '../db/assets.db.ts';
import { ASSETS_EVENT_SOURCE, AssetEventTypes, type RecoveryTaskOpened } from '../events.ts';

/** recovery-task-opened, continuing the case (correlation id) and the trace of the event that caused it. */
export function recoveryTaskOpened(task: RecoveryTaskRow, causedBy: CloudEvent): CloudEvent<RecoveryTaskOpened> {
  return createEvent({
    type: AssetEventTypes.recoveryTaskOpened,
    source: ASSETS_EVENT_SOURCE,
    subject: task.resignation_id,
    correlationId: causedBy.correlationid,
    traceparent: causedBy.traceparent,
    data: {
      resignationId: task.resignation_id,
      taskId: task.id,
      employeeId: task.employee_id,
      items: [...task.items],
      dueDate: task.due_date,
      openedAt: task.created_at.toISOString(),
    },
  });
}
