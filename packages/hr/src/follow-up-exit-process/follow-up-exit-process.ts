import { sql } from 'kysely';
import { notification } from '@ems/contracts';
import type { EventBus } from '@ems/eventbus';
import { followUpKey, followUpsDue, type FollowUp, type FollowUpPolicy } from '../domain/follow-ups.ts';
import type { HrDb } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { backoffMs, isRefusal, type NotificationClient } from '../notification/notification.client.ts';
import { followUpSent } from './follow-up.events.ts';
import { readFollowUps, refreshFollowUpTimer, setFollowUpTimer, type CaseFollowUps, type ExitCaseRow } from './follow-up-timer.ts';

export interface FollowUpDeps {
  policy: FollowUpPolicy;
  client: NotificationClient;
  /** First retry delay when Notification is unavailable; doubles with every failure. */
  retryBaseMs: number;
  /** Link to the case, put in the emails when given. */
  caseUrl?: ((resignationId: string) => string) | undefined;
}

/** How long a poller keeps a case to itself (real time): far longer than sending a few emails takes. */
const LEASE_MS = 60_000;

/**
 * HR's follow-up timer (choreography): sends the reminders and escalations that are due.
 *
 *   claim due cases (follow_up_at ≤ clock.now(), undecided; FOR UPDATE SKIP LOCKED, leased)
 *   per case, while the policy says a follow-up is due (re-read before each one):
 *     nobody to send it to (no HR lead, unknown partner) ──▶ record it skipped (warning)
 *     email through Notification, Idempotency-Key <resignationId>:follow-up:<milestone>.<level>
 *     ┌ one transaction ───────────────────────────────────────────────────────────┐
 *     │ record it (once per case and key) → follow-up-sent → move the case's timer │
 *     └────────────────────────────────────────────────────────────────────────────┘
 *   Notification unavailable → keep the case leased for a backoff, then again
 *
 * A crash between the email and its record sends it again with the same key, and Notification
 * answers with the email it already sent: one email, one record, one event. The lease, not a lock,
 * keeps two pollers apart, so no database connection waits on another service. The facts are read
 * again before every email, so a decision recorded in between stops the next one; only a decision
 * recorded in the milliseconds while an email is being handed to Notification can cross it.
 */
export async function sendDueFollowUps(ctx: HrContext & { bus: EventBus }, deps: FollowUpDeps, limit: number): Promise<number> {
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

async function followUpCase(ctx: HrContext & { bus: EventBus }, deps: FollowUpDeps, resignationId: string, failures: number): Promise<void> {
  try {
    for (;;) {
      // The instant first, then the facts: a follow-up is due only if it was due with the facts as
      // they stood at that instant or later (never stale facts judged at a later instant).
      const now = ctx.clock.now();
      const c = await readFollowUps(ctx.db, resignationId);
      const [next] = c ? followUpsDue(deps.policy, c.facts, c.sent, now) : [];
      if (!c || !next) break;
      await sendFollowUp(ctx, deps, c, next);
    }
    await ctx.db.transaction().execute(async (trx) => {
      await refreshFollowUpTimer({ followUpPolicy: deps.policy }, trx, resignationId);
      await trx.updateTable('exit_cases').set({ claimed_until: null, failures: 0 }).where('resignation_id', '=', resignationId).execute();
    });
  } catch (err) {
    const delay = backoffMs(deps.retryBaseMs, failures + 1);
    ctx.log.warn({ resignationId, failures: failures + 1, retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, 'follow-up not sent yet; will retry');
    await ctx.db
      .updateTable('exit_cases')
      .set((eb) => ({ claimed_until: sql<Date>`now() + ${delay} * interval '1 millisecond'`, failures: eb('failures', '+', 1) }))
      .where('resignation_id', '=', resignationId)
      .execute();
  }
}

async function sendFollowUp(ctx: HrContext & { bus: EventBus }, deps: FollowUpDeps, c: CaseFollowUps, f: FollowUp): Promise<void> {
  const resignationId = c.exitCase.resignation_id;
  const key = followUpKey(f);
  const target = await addressee(ctx.db, c.exitCase, f);
  if ('skipped' in target) {
    ctx.log.warn({ resignationId, followUp: key, reason: target.skipped }, 'follow-up has nobody to go to; recorded as skipped');
    await record(ctx, deps, c, f, { skipped: target.skipped });
    return;
  }

  const request: notification.SendEmailRequest = {
    resignationId,
    purpose: notification.EmailPurposes.followUp(f),
    to: target.to,
    template: 'exit-follow-up',
    data: notification.FollowUpData.parse({
      recipientName: target.to.name,
      level: f.level,
      milestone: f.milestone,
      employeeName: c.exitCase.employee_name ?? c.exitCase.employee_id ?? 'an employee',
      hrPartnerName: target.hrPartnerName,
      dueAt: f.dueAt.toISOString(),
      ...(deps.caseUrl ? { caseUrl: deps.caseUrl(resignationId) } : {}),
    }),
    attachments: [],
  };
  let emailId: string;
  try {
    emailId = (await deps.client.sendEmail(request, { idempotencyKey: `${resignationId}:follow-up:${key}` })).id;
  } catch (err) {
    if (!isRefusal(err)) throw err;
    // Sending the same request again cannot succeed: record it, so the case moves on to its next follow-up.
    ctx.log.error({ resignationId, followUp: key, err: err.message }, 'notification refused a follow-up email; recorded as skipped');
    await record(ctx, deps, c, f, { skipped: `refused by Notification: ${err.message}`.slice(0, 2000) });
    return;
  }
  await record(ctx, deps, c, f, { to: target.to.email, emailId });
}

type Outcome = { to: string; emailId: string } | { skipped: string };

/** Records the follow-up once (a second poller's record changes nothing) and announces a sent one, in one transaction. */
async function record(ctx: HrContext & { bus: EventBus }, deps: FollowUpDeps, c: CaseFollowUps, f: FollowUp, outcome: Outcome): Promise<void> {
  const resignationId = c.exitCase.resignation_id;
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    // The case row first: the same lock order as every other writer of the case. Its facts, read under the
    // lock, then set the timer without reading them again.
    const locked = await readFollowUps(trx, resignationId, { lock: true });
    const inserted = await trx
      .insertInto('follow_ups')
      .values({
        resignation_id: resignationId,
        milestone: f.milestone,
        level: f.level,
        due_at: f.dueAt,
        recipient: 'to' in outcome ? outcome.to : null,
        email_id: 'emailId' in outcome ? outcome.emailId : null,
        skipped: 'skipped' in outcome ? outcome.skipped : null,
        recorded_at: now,
      })
      .onConflict((oc) => oc.columns(['resignation_id', 'milestone', 'level']).doNothing())
      .returning('resignation_id')
      .executeTakeFirst();
    if (inserted && 'emailId' in outcome) {
      const cause = { correlationId: c.exitCase.correlation_id ?? resignationId, traceparent: c.exitCase.traceparent ?? undefined };
      await ctx.bus.publish(trx, [followUpSent(resignationId, f, outcome, cause, now)]);
    }
    if (locked) {
      // Recorded now, or by another poller before the lock was ours (then already in the facts read).
      locked.sent.add(followUpKey(f));
      await setFollowUpTimer(deps.policy, trx, locked);
    }
  });
}

/** Who a follow-up goes to: a reminder to the case's HR partner, an escalation to that partner's HR lead. */
async function addressee(
  db: HrDb,
  c: ExitCaseRow,
  f: FollowUp,
): Promise<{ to: { email: string; name: string }; hrPartnerName: string } | { skipped: string }> {
  const partner = c.hr_partner_id
    ? await db
        .selectFrom('hr_partners as p')
        .leftJoin('hr_leads as l', 'l.id', 'p.lead_id')
        .select(['p.id', 'p.name', 'p.email', 'l.name as lead_name', 'l.email as lead_email'])
        .where('p.id', '=', c.hr_partner_id)
        .executeTakeFirst()
    : undefined;
  if (!partner) return { skipped: `HR partner ${c.hr_partner_id ?? '(none)'} is not in HR's directory` };
  if (f.level === 'reminder') return { to: { email: partner.email, name: partner.name }, hrPartnerName: partner.name };
  if (!partner.lead_name || !partner.lead_email) return { skipped: `HR partner ${partner.id} has no HR lead to escalate to` };
  return { to: { email: partner.lead_email, name: partner.lead_name }, hrPartnerName: partner.name };
}
