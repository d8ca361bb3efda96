import { sql } from 'kysely';
import type { z } from 'zod';
import type { Logger } from '@ems/platform';
import { notification } from '@ems/contracts';
import type { InviteNotSent } from '@ems/contracts/events';
import type { HrDb, HrTx } from '../db/hr.db.ts';
import { invitePurpose, type Invite, type Invitee } from '../domain/calendar-invite.ts';

/**
 * How long a freshly queued invite is reserved for the request that queued it: the request delivers
 * it right after committing (fast path); the relay only takes over if that did not happen (process
 * crash), so the two do not race for the same email. One minute, a claim's lease (deliver-invites.ts):
 * the fast path sends under this reservation without claiming the row, so it is its lease.
 */
export const FAST_PATH_RESERVATION_MS = 60_000;

/** An invite queued in HR's outbox, as the transaction that queued it knows it: what the fast path sends. */
export interface QueuedEmail {
  id: number;
  request: notification.SendEmailRequest;
  /**
   * This process's clock (Date.now()) until which the row is surely still reserved for the fast path: taken
   * before the insert, so never later than the database's own reservation. Past it, the fast path claims the
   * row as the relay does (the relay may have taken it over).
   */
  reservedUntil: number;
}

/**
 * The outbox rows of the invites, ready for one INSERT (enqueueEmails, or a statement that inserts more beside them),
 * each with whom it is for (`invitee`, from inviteEmails).
 *
 * Validated at the edge: what leaves for Notification must match its contract. An invite Notification would refuse
 * (e.g. an address the directory holds — up to 320 characters — longer than the 254 Notification takes) cannot be
 * sent, now or on any retry: it is recorded `failed` with why, as the relay records an invite Notification refused
 * (deliver-invites.ts), and never queued; `not_sent` keeps the reason for HR's answer and event (invitesNotSent).
 * The booking, move or cancellation it belongs to stands, and the other person's invite goes: one person's address
 * does not hold up the case (a follow-up Notification refuses is likewise recorded skipped, not retried).
 */
export function outboxRows(interviewId: string, invites: readonly Invite[], log: Logger) {
  return invites.map(({ invitee, email }) => {
    const checked = notification.SendEmailRequest.safeParse(email);
    const recipient = email.to.email.toLowerCase();
    const row = {
      interview_id: interviewId,
      purpose: email.purpose,
      recipient,
      invitee,
      next_attempt_at: sql<Date>`now() + ${FAST_PATH_RESERVATION_MS} * interval '1 millisecond'`,
    };
    if (!checked.success) {
      const reason = refusal(email, checked.error);
      log.error({ interviewId, resignationId: email.resignationId, purpose: email.purpose, err: reason }, 'Notification would refuse an interview invite; recorded failed, not sent');
      return { ...row, request: JSON.stringify(email), status: 'failed' as const, last_error: `${NOT_SENT}${reason}`, not_sent: reason, attempts: 0, body: email, parsed: undefined };
    }
    // The fast path's attempt, counted when it is reserved: that path sends without claiming the row.
    return { ...row, request: JSON.stringify(checked.data), status: 'pending' as const, last_error: null, not_sent: null, attempts: 1, body: checked.data, parsed: checked.data };
  });
}

/** What last_error of an invite refused at queueing says before the reason: unchanged for those who read last_error (an older process, too). */
const NOT_SENT = 'not sent: ';

/**
 * Why an invite is not sent, in words that name the address: what Notification would answer (400) with. Cut to fit
 * last_error's 2000 characters after NOT_SENT.
 */
function refusal(email: notification.SendEmailRequest, error: z.ZodError): string {
  const issues = error.issues.map((i) => `${i.path.join('.') || '(email)'}: ${i.message}`).join('; ');
  return `Notification refuses this email to ${email.to.email} (${issues})`.slice(0, 2000 - NOT_SENT.length);
}

/** An outbox row as invitesNotSent reads it: fresh from outboxRows, or stored. */
interface InviteRow {
  invitee: Invitee | null;
  not_sent: string | null;
}

/**
 * The invites of one version of an interview that were refused as they were queued (`not_sent`, see outboxRows), each
 * with whom it was for as inviteEmails said: what HR's answer and exit-interview-scheduled report. An invite
 * Notification refuses later, at delivery, is not among them: it happens after both.
 */
export function invitesNotSent(rows: readonly InviteRow[]): InviteNotSent[] {
  // invitee is never NULL beside not_sent (migration 9's outbox_not_sent).
  return rows.flatMap((row) => (row.not_sent !== null && row.invitee !== null ? [{ to: row.invitee, reason: row.not_sent }] : []));
}

/**
 * The invites of the interview's current version that were refused as they were queued, read back: a repeated
 * command answers with the interview as it is now, so with these.
 */
export async function storedInvitesNotSent(db: HrDb | HrTx, interview: { id: string; sequence: number }): Promise<InviteNotSent[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['invitee', 'not_sent'])
    .where('interview_id', '=', interview.id)
    .where('purpose', '=', invitePurpose('REQUEST', interview.id, interview.sequence))
    .where('not_sent', 'is not', null)
    .orderBy('id')
    .execute();
  return invitesNotSent(rows);
}

/** Pairs the ids an insert returned (an email already queued is not returned) with the requests queued; a refused row is not queued. */
export function queuedEmails(rows: ReturnType<typeof outboxRows>, inserted: readonly { id: number; purpose: string; recipient: string }[], reservedUntil: number): QueuedEmail[] {
  return inserted.flatMap((r) => {
    const row = rows.find((x) => x.purpose === r.purpose && x.recipient === r.recipient);
    if (!row) throw new Error(`outbox returned a row it was not given: ${r.purpose} to ${r.recipient}`);
    return row.parsed ? [{ id: r.id, request: row.parsed, reservedUntil }] : [];
  });
}

/**
 * Queues emails for Notification in the caller's transaction: committed together with the booking,
 * or not at all. Returns the rows queued (an email already queued is not queued again; one Notification would
 * refuse is recorded failed, see outboxRows).
 */
export async function enqueueEmails(
  trx: HrTx,
  interviewId: string,
  invites: readonly Invite[],
  log: Logger,
): Promise<{ queued: QueuedEmail[]; notSent: InviteNotSent[] }> {
  if (invites.length === 0) return { queued: [], notSent: [] };
  const reservedUntil = Date.now() + FAST_PATH_RESERVATION_MS;
  const rows = outboxRows(interviewId, invites, log);
  const inserted = await trx
    .insertInto('outbox')
    .values(rows.map(({ parsed: _parsed, body: _body, ...row }) => row))
    .onConflict((oc) => oc.columns(['purpose', 'recipient']).doNothing())
    .returning(['id', 'purpose', 'recipient'])
    .execute();
  return { queued: queuedEmails(rows, inserted, reservedUntil), notSent: invitesNotSent(rows) };
}
