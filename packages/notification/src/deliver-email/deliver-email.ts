import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { backoffDelay } from '@ems/platform';
import { buildMailMessage } from '../domain/mail-message.ts';
import { describeSmtpError } from '../smtp/mailer.ts';
import type { NotificationContext } from '../notification.context.ts';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import { notification as api } from '@ems/contracts';
import { lockAnnouncement, settleAnnouncement } from './settle-announcement.ts';
import type { SendSlot } from './send-slots.ts';
import { outcomeEvent } from './outcome-event.ts';
import { claimable, type Claimed } from './claim-together.ts';

/**
 * Delivery of one queued email:
 *
 *   claim ──► SMTP send ──► sent
 *                  │
 *                  └─ error ─► attempts < max ? queued, next_attempt_at = now + backoff
 *                                             : failed, last_error
 *
 * A manager notice reports its end (sent → managerNotified, failed → managerNotificationFailed) on the
 * event bus, in the transaction that records it — in both modes, so webhooks and EMS's tracking see it.
 * The last decision notice of an announcement to finish reports the announcement's end the same way
 * (decisionAnnounced / decisionAnnouncementFailed).
 *
 * The claim is one atomic UPDATE … RETURNING whose row is picked with FOR UPDATE SKIP LOCKED and
 * which sets a lease (claim_token, claimed_until): two dispatchers, or a dispatcher and a POST's fast
 * path, never send the same email at once, and no transaction stays open during the SMTP exchange.
 * Only the holder of the claim token may record the outcome.
 *
 * An email that is about to be sent by the worker storing it (POST /api/emails, the event handlers)
 * is inserted already claimed by that worker (`claimOnInsert`): the same lease and attempt count the
 * claim UPDATE would have written, one statement fewer. Nobody else can claim it before its lease
 * runs out, and if the worker dies, the lease runs out and the dispatcher takes it, as after a claim.
 *
 * Every claim is made holding a send slot (send-slots.ts), so a claimed email goes to the SMTP pool
 * at once instead of waiting behind other emails while its lease runs. Claims by id (a POST's fast path)
 * asked for at the same time are made by one statement (claim-together.ts); the dispatcher's claim of
 * the most overdue email is its own.
 *
 * At-least-once, not exactly-once: if the process dies after the SMTP server accepted the message but
 * before "sent" is written, the lease runs out and the email is sent again. The Message-ID was fixed
 * when the row was inserted, so the resend carries the same Message-ID and receivers can tell it is
 * the same message.
 */

/** Claims the email `id` (or, without an id, the most overdue queued email) and delivers it. */
export async function deliverEmail(ctx: NotificationContext, id?: string): Promise<EmailRow | undefined> {
  const slot = await ctx.sendSlots.acquire();
  try {
    const claimed = await claim(ctx, id);
    if (!claimed) return undefined;
    return await deliverClaimed(ctx, claimed.row, claimed.token, slot);
  } finally {
    slot.release();
  }
}

/** A claim written with the row when it is inserted (attempt 1), and the send slot it holds. */
export interface ClaimOnInsert {
  token: string;
  until: Date;
  slot: SendSlot;
}

/**
 * A claim for an email about to be stored and sent right away — if a send slot is free now. When none
 * is (a burst), the email is stored unclaimed and waits for a slot like any queued email. The caller
 * owns the slot: it must end up in `deliverClaimedOnInsert` or be released.
 */
export function claimOnInsert(ctx: NotificationContext): ClaimOnInsert | undefined {
  const slot = ctx.sendSlots.tryAcquire();
  if (!slot) return undefined;
  return { token: randomUUID(), until: new Date(ctx.clock.now().getTime() + ctx.leaseMs), slot };
}

/** Delivers an email stored (and committed) with `claimed`'s claim; releases its slot. */
export async function deliverClaimedOnInsert(ctx: NotificationContext, row: EmailRow, claimed: ClaimOnInsert): Promise<EmailRow | undefined> {
  try {
    return await deliverClaimed(ctx, row, claimed.token, claimed.slot);
  } finally {
    claimed.slot.release();
  }
}

async function claim(ctx: NotificationContext, id: string | undefined): Promise<Claimed | undefined> {
  // By id: with the other claims asked for at the same time (claim-together.ts).
  if (id !== undefined) return ctx.claimById(id);
  const now = ctx.clock.now();
  const token = randomUUID();
  const row = await ctx.db
    .updateTable('emails')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      claim_token: token,
      claimed_until: new Date(now.getTime() + ctx.leaseMs),
    }))
    .where('id', '=', (eb) => claimable(eb.selectFrom('emails').select('id'), now).orderBy('next_attempt_at').limit(1).forUpdate().skipLocked())
    .returningAll()
    .executeTakeFirst();
  return row ? { row, token } : undefined;
}

async function deliverClaimed(ctx: NotificationContext, row: EmailRow, token: string, slot: SendSlot): Promise<EmailRow | undefined> {
  const log = ctx.log.child({ emailId: row.id, attempt: row.attempts });
  if (row.attempts > ctx.maxAttempts) {
    slot.release();
    // Only reachable when a worker died holding the last attempt's claim: do not exceed the limit.
    return finish(ctx, row, token, { status: 'failed', error: row.last_error ?? 'gave up: the last attempt was interrupted' });
  }
  try {
    await ctx.mailer.send(
      buildMailMessage(
        {
          id: row.id,
          recipient: row.recipient,
          recipientName: row.recipient_name,
          subject: row.subject,
          text: row.text,
          html: row.html,
          messageId: row.message_id,
          attachments: row.attachments,
        },
        ctx.from,
      ),
    );
  } catch (err) {
    slot.release();
    const error = describeSmtpError(err);
    if (row.attempts >= ctx.maxAttempts) {
      log.error({ error }, 'email delivery failed for good');
      return finish(ctx, row, token, { status: 'failed', error });
    }
    const delayMs = backoffDelay(row.attempts, ctx.backoff);
    log.warn({ error, retryInMs: delayMs }, 'email delivery failed; will retry');
    return finish(ctx, row, token, { status: 'queued', error, retryAt: new Date(ctx.clock.now().getTime() + delayMs) });
  }
  // The SMTP exchange is over: the next email may go while this one's outcome is written.
  slot.release();
  log.info({ messageId: row.message_id }, 'email sent');
  return finish(ctx, row, token, { status: 'sent' });
}

type Outcome = { status: 'sent' } | { status: 'failed'; error: string } | { status: 'queued'; error: string; retryAt: Date };

/**
 * Records the outcome, but only while we still hold the claim. "Sent" is recorded together with the other
 * emails whose sends end at the same time (ctx.recordSent), except a decision notice's. With a bus, a final
 * status (`sent` or `failed`) reports in the same transaction as the status, so the event exists iff the
 * status was written:
 * - a manager notice publishes managerNotified / managerNotificationFailed;
 * - a decision notice locks its announcement first, then publishes decisionAnnounced /
 *   decisionAnnouncementFailed if it was the last of the announcement's emails to finish.
 */
async function finish(ctx: NotificationContext, row: EmailRow, token: string, outcome: Outcome): Promise<EmailRow | undefined> {
  const { bus } = ctx;
  const write = (db: Kysely<NotificationDB>, now: Date): Promise<EmailRow | undefined> =>
    db
      .updateTable('emails')
      .set({
        status: outcome.status,
        claim_token: null,
        claimed_until: null,
        ...(outcome.status === 'sent' ? { sent_at: now, last_error: null } : { last_error: outcome.error }),
        ...(outcome.status === 'queued' ? { next_attempt_at: outcome.retryAt } : {}),
      })
      .where('id', '=', row.id)
      .where('claim_token', '=', token)
      .returningAll()
      .executeTakeFirst();

  // What the email is for is its template and typed data (never its purpose, which is only a key).
  const announcement = row.template === 'resignation-decision-notice' ? api.DecisionNoticeData.pick({ decision: true, revision: true }).parse(row.data) : undefined;
  let updated: EmailRow | undefined;
  if (outcome.status === 'sent' && !announcement) {
    // With the other emails whose sends end now (record-sent-together.ts).
    updated = await ctx.recordSent({ row, token });
  } else if (!bus || outcome.status === 'queued') {
    updated = await write(ctx.db, ctx.clock.now());
  } else if (row.template === 'resignation-manager-notice') {
    updated = await ctx.db.transaction().execute(async (trx) => {
      const now = ctx.clock.now();
      const done = await write(trx, now);
      const event = done && outcomeEvent(done, now);
      if (event) await bus.publish(trx, [event]);
      return done;
    });
  } else if (announcement) {
    const key = { resignationId: row.resignation_id, decision: announcement.decision, revision: announcement.revision };
    updated = await ctx.db.transaction().execute(async (trx) => {
      await lockAnnouncement(trx, key);
      const now = ctx.clock.now();
      const done = await write(trx, now);
      if (done) await settleAnnouncement(trx, bus, key, done, now);
      return done;
    });
  } else {
    updated = await write(ctx.db, ctx.clock.now());
  }
  if (!updated) ctx.log.warn({ emailId: row.id }, 'lost the claim on an email before recording its delivery');
  return updated;
}
