import { sql } from 'kysely';
import { backoffDelay, createPoller, type Poller } from '@ems/platform';
import { followUpsDue } from '../domain/follow-ups.ts';
import type { HrContext } from '../hr.context.ts';
import { notificationRetry } from '../notification/notification.client.ts';
import { followUpIfDue, type FollowUpDeps } from './follow-up-exit-process.ts';
import { readFollowUps, refreshFollowUpTimer } from './follow-up-timer.ts';

const BATCH = 10;
/** How long a poller keeps a case to itself (real time): far longer than sending a few emails takes. */
const LEASE_MS = 60_000;

/** The timer's trigger (choreography): every `intervalMs` it sends the follow-ups due by the clock (see sendDueFollowUps). */
export function createFollowUpPoller(ctx: HrContext, deps: FollowUpDeps, intervalMs: number): Poller {
  return createPoller({ name: 'follow-up timer', log: ctx.log, intervalMs, batch: BATCH, work: (limit) => sendDueFollowUps(ctx, deps, limit) });
}

/**
 * HR's follow-up timer (choreography): hands each follow-up that is due to the use case (followUpIfDue).
 *
 *   claim due cases (follow_up_at ≤ clock.now(), undecided; FOR UPDATE SKIP LOCKED, leased)
 *   per case, while the policy says a follow-up is due (facts re-read before each one): followUpIfDue
 *   then release the case, its timer set to the next follow-up
 *   Notification unavailable → keep the case leased for a backoff, then again
 *
 * The lease, not a lock, keeps two pollers apart, so no database connection waits on another service. The
 * facts are read again before every email, so a decision recorded in between stops the next one; only a
 * decision recorded in the milliseconds while an email is being handed to Notification can cross it.
 */
export async function sendDueFollowUps(ctx: HrContext, deps: FollowUpDeps, limit: number): Promise<number> {
  const claimed = await ctx.db
    .updateTable('exit_cases')
    .set({ claimed_until: sql<Date>`now() + ${LEASE_MS} * interval '1 millisecond'` })
    .where('resignation_id', 'in', (eb) =>
      eb
        .selectFrom('exit_cases')
        .select('resignation_id')
        .where('follow_up_at', '<=', ctx.clock.now())
        .where('decision', 'is', null)
        .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', sql<Date>`now()`)]))
        .orderBy('follow_up_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['resignation_id', 'failures'])
    .execute();
  await Promise.all(claimed.map((c) => followUpCase(ctx, deps, c.resignation_id, c.failures)));
  return claimed.length;
}

async function followUpCase(ctx: HrContext, deps: FollowUpDeps, resignationId: string, failures: number): Promise<void> {
  try {
    for (;;) {
      // The instant first, then the facts: a follow-up is due only if it was due with the facts as
      // they stood at that instant or later (never stale facts judged at a later instant).
      const now = ctx.clock.now();
      const c = await readFollowUps(ctx.db, resignationId);
      const [next] = c ? followUpsDue(deps.policy, c.facts, c.sent, now) : [];
      if (!c || !next) break;
      await followUpIfDue(ctx, deps, c, next, now);
    }
    await ctx.db.transaction().execute(async (trx) => {
      await refreshFollowUpTimer({ followUpPolicy: deps.policy }, trx, resignationId);
      await trx.updateTable('exit_cases').set({ claimed_until: null, failures: 0 }).where('resignation_id', '=', resignationId).execute();
    });
  } catch (err) {
    const delay = backoffDelay(failures + 1, notificationRetry(deps.retryBaseMs));
    ctx.log.warn({ resignationId, failures: failures + 1, retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, 'follow-up not sent yet; will retry');
    await ctx.db
      .updateTable('exit_cases')
      .set((eb) => ({ claimed_until: sql<Date>`now() + ${delay} * interval '1 millisecond'`, failures: eb('failures', '+', 1) }))
      .where('resignation_id', '=', resignationId)
      .execute();
  }
}
