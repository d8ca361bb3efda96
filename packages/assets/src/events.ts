import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, Uuid } from '@ems/contracts';
import type { EventCatalogue } from '@ems/eventbus';

/**
 * The events this extension publishes. They are defined here, not in @ems/contracts: the core knows
 * nothing about asset recovery. EMS adds `AssetEvents` to the bus's catalogue (and the AsyncAPI
 * document) when it loads the extension, through the extension's `events` field.
 */
export const AssetEventTypes = {
  recoveryTaskOpened: 'com.ems.assets.recovery-task-opened.v1',
} as const;

export const ASSETS_EVENT_SOURCE = '/ems/assets';

export const RecoveryTaskOpened = z
  .object({
    resignationId: Uuid,
    taskId: Uuid,
    employeeId: EmployeeId,
    /** What the leaver is asked to hand back, e.g. ['laptop', 'badge']. */
    items: z.array(z.string().min(1)).min(1),
    /** The leaver's last working day: everything is back by then. */
    dueDate: IsoDate,
    openedAt: IsoDateTime,
  })
  .meta({ id: 'AssetRecoveryTaskOpened', description: "IT opened a task to collect the leaver's equipment by their last working day." });
export type RecoveryTaskOpened = z.infer<typeof RecoveryTaskOpened>;

export const AssetEvents = {
  [AssetEventTypes.recoveryTaskOpened]: RecoveryTaskOpened,
} as const satisfies EventCatalogue;
