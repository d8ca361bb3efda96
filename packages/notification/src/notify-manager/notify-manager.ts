import type { Kysely } from 'kysely';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type CloudEvent } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import { claimOnInsert } from '../deliver-email/deliver-email.ts';
import { deliverStored, storeEmail, type EmailOrigin } from '../send-email/send-email.ts';
import { managerNoticeRequest, noManagerEmailId, type ResignationFacts } from './manager-notice.ts';

/**
 * The use case: an employee resigned → tell their manager. One core for both modes — the choreography
 * handler (notify-manager-when-resignation-submitted.ts) and the orchestrator's command
 * (notify-manager.http.ts) only parse their input and call this.
 *
 *   one transaction (one statement when there is nothing else to commit with the notice; the adapter's own
 *   transaction when it gives one, e.g. shared with the other deliveries that arrived together):
 *                    [the adapter's own check, e.g. the event not yet processed]
 *                    ─► no manager: publish managerNotified { skipped: 'no manager' } (with a bus)
 *                    ─► the notice cannot be rendered: store nothing (the adapter reports why)
 *                    ─► store the notice (queued; claimed by this instance when a send slot is free)
 *   after commit:    try to deliver it now (waiting up to `waitMs`); the dispatcher retries the rest, and
 *                    the delivery publishes managerNotified / managerNotificationFailed (deliver-email.ts)
 *
 * Asked again (a redelivered event, a retried command) it finds the notice stored — one per case,
 * purpose and recipient — and sends nothing more.
 */
export type ManagerNotice =
  | { outcome: 'stored'; email: EmailRow }
  | { outcome: 'no manager'; emailId: string }
  | { outcome: 'unrenderable'; reason: string }
  /** The adapter's own check said stop (an event already processed). */
  | { outcome: 'skipped' };

/** What a notice decides in the transaction it is given (stored, skipped or unrenderable). */
export type DecideNotice = (trx: Kysely<NotificationDB>) => Promise<ManagerNotice>;

export interface NotifyManagerOptions {
  caseUrl: string | null;
  origin: EmailOrigin;
  waitMs?: number;
  /**
   * The adapter's transaction, `decide` run in it, which has made the adapter's own check (e.g. the event not yet
   * processed): its answer, or `skipped` when the check said stop. Without it, the notice has a transaction of its own.
   */
  transaction?: (decide: DecideNotice) => Promise<ManagerNotice>;
  onUnrenderable?: (trx: Kysely<NotificationDB>, reason: string) => Promise<void>;
}

export async function notifyManager(ctx: NotificationContext, facts: ResignationFacts, options: NotifyManagerOptions): Promise<ManagerNotice> {
  const request = managerNoticeRequest(facts, options.caseUrl);
  const claim = request ? claimOnInsert(ctx) : undefined;
  // A transaction only when something must commit with the notice (the adapter's check, a failure report, the
  // no-manager event). The orchestrator's command has none of these: its notice is one INSERT … ON CONFLICT
  // (the unique index decides a repeat), so BEGIN and COMMIT would be two round trips for nothing — and it is
  // stored with the other notices and emails asked for at the same time (ctx.storeEmails).
  const alone = request !== undefined && !options.transaction && !options.onUnrenderable;
  const decide: DecideNotice = async (db) => {
    if (!request) {
      // Nobody to tell: the reaction is done. Said on the bus in both modes, as a sent notice is.
      if (ctx.bus) await ctx.bus.publish(db, [noManagerToNotify(facts.resignationId, options.origin, ctx.clock.now())]);
      return { outcome: 'no manager', emailId: noManagerEmailId(facts.resignationId) };
    }
    const stored = await storeEmail(db, ctx.clock, request, undefined, options.origin, claim, alone ? ctx.storeEmails : undefined);
    if (!stored.ok) {
      const reason = `the manager notice cannot be rendered: ${stored.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
      await options.onUnrenderable?.(db, reason);
      return { outcome: 'unrenderable', reason };
    }
    return { outcome: 'stored', email: stored.row };
  };
  const decided = await (options.transaction ? options.transaction(decide) : alone ? decide(ctx.db) : ctx.db.transaction().execute(decide))
    .catch((err: unknown) => {
      // Rolled back: no email was stored, the claim's slot is free again.
      claim?.slot.release();
      throw err;
    });
  if (decided.outcome !== 'stored') {
    claim?.slot.release();
    return decided;
  }
  // Committed: the email exists, and so will its outcome event, whether sent now or by the dispatcher.
  return { outcome: 'stored', email: await deliverStored(ctx, decided.email, claim, options.waitMs) };
}

/** emailId is derived from the case (see noManagerEmailId): no email exists. */
function noManagerToNotify(resignationId: string, origin: EmailOrigin, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.managerNotified,
    source: EventSources.notification,
    subject: resignationId,
    correlationId: origin.correlationId ?? resignationId,
    traceparent: origin.traceparent,
    time: at,
    data: { resignationId, emailId: noManagerEmailId(resignationId), to: '', messageId: null, skipped: 'no manager' },
  });
}
