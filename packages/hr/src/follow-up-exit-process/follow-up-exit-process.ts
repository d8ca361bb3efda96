import { hr, notification } from '@ems/contracts';
import { followUpKey, followUpsCalledFor, followUpsDue, type FollowUp, type FollowUpPolicy } from '../domain/follow-ups.ts';
import type { HrDb } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';
import { isRefusedByNotification, type NotificationClient } from '../notification/notification.client.ts';
import { followUpSent, followUpSkipped } from './follow-up.events.ts';
import { readFollowUps, setFollowUpTimer, type CaseFollowUps, type ExitCaseRow, type FollowUpRecord } from './follow-up-timer.ts';

export interface FollowUpDeps {
  policy: FollowUpPolicy;
  client: NotificationClient;
  /** First retry delay of HR's timer when Notification is unavailable; doubles with every failure. */
  retryBaseMs: number;
  /** Link to the case, put in the emails when given. */
  caseUrl?: ((resignationId: string) => string) | undefined;
}

/** Which follow-up of a case: e.g. the interview_scheduled reminder. */
export type FollowUpRef = Pick<FollowUp, 'milestone' | 'level'>;

/**
 * The use case: one follow-up of a case whose deadline passed — sent if HR, with its own facts, finds it still
 * due. One core for both modes: HR's timer in choreography (follow-up.poller.ts, which asks for each follow-up
 * the policy finds due) and the orchestrator's command (POST /api/hr/follow-ups, follow-up.http.ts).
 *
 *   recorded already (sent or skipped) ──▶ that record (a repeat changes nothing)
 *   decided / milestone met / not due by `at` ──▶ not due, and why (nothing recorded)
 *   nobody to send it to (no HR lead, unknown partner) ──▶ recorded skipped (warning)
 *   email through Notification, Idempotency-Key <resignationId>:follow-up:<milestone>.<level>
 *     refused (4xx) ──▶ recorded skipped (sending it again cannot succeed); unavailable ──▶ throws (the caller retries)
 *   ┌ one transaction ──────────────────────────────────────────────────────────────────────────────────────────┐
 *   │ record it (once per case and key) → follow-up-sent / follow-up-skipped → move the case's timer (choreography) │
 *   └───────────────────────────────────────────────────────────────────────────────────────────────────────────┘
 *
 * `c`: the case's facts, read by the caller just before; `at`: the instant it is judged due by (the caller's
 * clock read before the facts). A crash between the email and its record sends it again with the same key,
 * and Notification answers with the email it already sent: one email, one record, one event.
 */
export async function followUpIfDue(ctx: HrContext, deps: FollowUpDeps, c: CaseFollowUps, wanted: FollowUpRef, at: Date): Promise<hr.FollowUpAnswer> {
  const key = followUpKey(wanted);
  const recorded = c.records.get(key);
  if (recorded) return answerOf(c, wanted, recorded);
  const due = dueOrWhyNot(deps.policy, c, wanted, at);
  if ('reason' in due) return { outcome: 'not due', ...about(c, wanted), reason: due.reason, dueAt: due.dueAt?.toISOString() ?? null };
  return answerOf(c, wanted, await send(ctx, deps, c, due));
}

/** The follow-up asked for, due by `at` with the case's facts; or why it is not. */
function dueOrWhyNot(policy: FollowUpPolicy, c: CaseFollowUps, wanted: FollowUpRef, at: Date): FollowUp | { reason: hr.FollowUpNotDue; dueAt: Date | null } {
  const key = followUpKey(wanted);
  if (c.facts.decided) return { reason: 'decided', dueAt: null };
  const calledFor = followUpsCalledFor(policy, c.facts).find((f) => followUpKey(f) === key);
  if (!calledFor) return { reason: 'milestone met', dueAt: null };
  // Due by `at`, and its turn: an escalation waits for its reminder.
  return followUpsDue(policy, c.facts, c.sent, at).find((f) => followUpKey(f) === key) ?? { reason: 'not yet due', dueAt: calledFor.dueAt };
}

async function send(ctx: HrContext, deps: FollowUpDeps, c: CaseFollowUps, f: FollowUp): Promise<FollowUpRecord> {
  const resignationId = c.exitCase.resignation_id;
  const key = followUpKey(f);
  const target = await addressee(ctx.db, c.exitCase, f);
  if ('skipped' in target) {
    ctx.log.warn({ resignationId, followUp: key, reason: target.skipped }, 'follow-up has nobody to go to; recorded as skipped');
    return record(ctx, deps, c, f, { skipped: target.skipped });
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
    if (!isRefusedByNotification(err)) throw err;
    // Sending the same request again cannot succeed: record it, so the case moves on to its next follow-up.
    ctx.log.error({ resignationId, followUp: key, err: err.message }, 'notification refused a follow-up email; recorded as skipped');
    return record(ctx, deps, c, f, { skipped: `refused by Notification: ${err.message}`.slice(0, 2000) });
  }
  return record(ctx, deps, c, f, { to: target.to.email, emailId });
}

type Outcome = { to: string; emailId: string } | { skipped: string };

/**
 * Records the follow-up once and announces it (sent or skipped), in one transaction; answers what is recorded —
 * this outcome, or the one another caller recorded first (then nothing is announced again).
 */
async function record(ctx: HrContext, deps: FollowUpDeps, c: CaseFollowUps, f: FollowUp, outcome: Outcome): Promise<FollowUpRecord> {
  const resignationId = c.exitCase.resignation_id;
  const key = followUpKey(f);
  const now = ctx.clock.now();
  const mine: FollowUpRecord = { dueAt: f.dueAt, to: 'to' in outcome ? outcome.to : null, emailId: 'emailId' in outcome ? outcome.emailId : null, skipped: 'skipped' in outcome ? outcome.skipped : null };
  return ctx.db.transaction().execute(async (trx) => {
    // The case row first: the same lock order as every other writer of the case. Its facts, read under the
    // lock, then set the timer without reading them again.
    const locked = await readFollowUps(trx, resignationId, { lock: true });
    const first = locked?.records.get(key);
    if (first) return first; // recorded by another caller before the lock was ours
    await trx
      .insertInto('follow_ups')
      .values({ resignation_id: resignationId, milestone: f.milestone, level: f.level, due_at: f.dueAt, recipient: mine.to, email_id: mine.emailId, skipped: mine.skipped, recorded_at: now })
      .onConflict((oc) => oc.columns(['resignation_id', 'milestone', 'level']).doNothing())
      .execute();
    // Announced either way, in both modes: EMS records each on the case's timeline from the event (one entry, one wording).
    const cause = { correlationId: c.exitCase.correlation_id ?? resignationId, traceparent: c.exitCase.traceparent ?? undefined };
    const announced = 'emailId' in outcome ? followUpSent(resignationId, f, outcome, cause, now) : followUpSkipped(resignationId, f, outcome.skipped, cause, now);
    await ctx.bus?.publish(trx, [announced]);
    if (locked && ctx.followUpPolicy) {
      // HR owns the case's timer (choreography): it moves on to the next follow-up.
      locked.sent.add(key);
      await setFollowUpTimer(ctx.followUpPolicy, trx, locked);
    }
    return mine;
  });
}

function about(c: CaseFollowUps, f: FollowUpRef) {
  const i = c.facts.interview;
  return { resignationId: c.exitCase.resignation_id, milestone: f.milestone, level: f.level, interview: i ? { end: i.end.toISOString(), held: i.held } : null };
}

function answerOf(c: CaseFollowUps, f: FollowUpRef, r: FollowUpRecord): hr.FollowUpAnswer {
  const dueAt = r.dueAt.toISOString();
  if (r.emailId && r.to) return { outcome: 'sent', ...about(c, f), dueAt, to: r.to, emailId: r.emailId };
  return { outcome: 'skipped', ...about(c, f), dueAt, reason: r.skipped ?? 'recorded without an email' };
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
