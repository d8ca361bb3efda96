import type { EventBus } from '@ems/eventbus';
import { createPoller, type Poller } from '@ems/platform';
import type { HrContext } from '../hr.context.ts';
import { sendDueFollowUps, type FollowUpDeps } from './follow-up-exit-process.ts';

const BATCH = 10;

/** The timer's trigger: every `intervalMs` it sends the follow-ups due by the clock (see sendDueFollowUps). */
export function createFollowUpPoller(ctx: HrContext & { bus: EventBus }, deps: FollowUpDeps, intervalMs: number): Poller {
  return createPoller({ name: 'follow-up timer', log: ctx.log, intervalMs, batch: BATCH, work: (limit) => sendDueFollowUps(ctx, deps, limit) });
}
