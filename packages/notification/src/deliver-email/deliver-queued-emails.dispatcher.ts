import { createPoller, type Poller } from '@ems/platform';
import type { NotificationContext } from '../notification.context.ts';
import { deliverEmail } from './deliver-email.ts';

/** Emails one round takes on at most; a full round is followed by another at once (the poller drains a backlog). */
const BATCH = 100;

/**
 * Retries queued emails whose next attempt is due, on the platform's poller: every `intervalMs` a round of
 * `concurrency` workers each claims and delivers one email after another until nothing is due or the round
 * has taken on its batch. stop() waits for the round in flight (and its sends).
 */
export function createDispatcher(ctx: NotificationContext, options: { intervalMs: number; concurrency?: number }): Poller {
  const concurrency = options.concurrency ?? 4;
  return createPoller({ name: 'email dispatcher', log: ctx.log, intervalMs: options.intervalMs, batch: BATCH, work: (limit, stopping) => deliverDue(ctx, concurrency, limit, stopping) });
}

/** Delivers up to `limit` due emails, `concurrency` at a time, none started after `stopping`; how many it took on. */
async function deliverDue(ctx: NotificationContext, concurrency: number, limit: number, stopping: AbortSignal): Promise<number> {
  let taken = 0;
  let dry = false;
  const worker = async () => {
    while (!dry && !stopping.aborted && taken < limit) {
      taken++;
      if (!(await deliverEmail(ctx))) {
        taken--;
        dry = true;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return taken;
}
