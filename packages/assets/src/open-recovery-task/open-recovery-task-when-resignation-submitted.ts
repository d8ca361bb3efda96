import { EventTypes, ResignationSubmitted } from '@ems/contracts/events';
import { firstDelivery, type Subscription } from '@ems/eventbus';
import type { AssetsContext } from '../assets.context.ts';
import { ASSETS_SCHEMA } from '../db/assets.db.ts';
import { recoveryTaskOpened } from './open-recovery-task.events.ts';
import { openRecoveryTask } from './open-recovery-task.ts';

export const OPEN_RECOVERY_TASK_SUBSCRIBER = 'assets.open-recovery-task-when-resignation-submitted';

/**
 * IT opens an asset recovery task when an employee resigns. Nobody asks for it: the extension
 * subscribes to the core's resignation-submitted event and announces what it did.
 *
 *   resignation-submitted ──▶ ┌ one transaction ────────────────────────────────────┐
 *                             │ seen this event id before? → done (a redelivery)     │
 *                             │ open the task (one per resignation)                  │
 *                             │ new task → publish recovery-task-opened              │
 *                             └──────────────────────────────────────────────────────┘
 *
 * A technical error throws: nothing is recorded and the bus retries with backoff, then dead-letters.
 */
export function openRecoveryTaskWhenResignationSubmitted(ctx: AssetsContext): Subscription {
  return {
    name: OPEN_RECOVERY_TASK_SUBSCRIBER,
    types: [EventTypes.resignationSubmitted],

    async handle(event) {
      // The bus validated the payload already; parsing again gives the type without a cast.
      const data = ResignationSubmitted.parse(event.data);
      const opened = await ctx.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, ASSETS_SCHEMA, OPEN_RECOVERY_TASK_SUBSCRIBER, event.id))) return undefined;
        const { task, created } = await openRecoveryTask(ctx, trx, {
          resignationId: data.resignationId,
          employeeId: data.employee.id,
          lastWorkingDay: data.lastWorkingDay,
        });
        // Another event about the same resignation (a re-announcement) found the task open: nothing new to say.
        if (!created) return undefined;
        await ctx.bus.publish(trx, [recoveryTaskOpened(task, event)]);
        return task;
      });
      if (opened) {
        ctx.log.info({ taskId: opened.id, resignationId: opened.resignation_id, employeeId: opened.employee_id, dueDate: opened.due_date }, 'asset recovery task opened');
      }
    },

    async onDeadLetter(event, reason) {
      // No one waits for this reaction, so there is no failure event to announce; the dead letter is listed and replayable.
      ctx.log.error({ eventId: event.id, subject: event.subject, reason }, 'gave up opening an asset recovery task');
    },
  };
}
