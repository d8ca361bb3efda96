import { sql } from 'kysely';
import { notification } from '@ems/contracts';
import type { HrTx } from '../db/hr.db.ts';

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

/** The outbox rows of the invites, ready for one INSERT (enqueueEmails, or a statement that inserts more beside them). */
export function outboxRows(interviewId: string, emails: readonly notification.SendEmailRequest[]) {
  return emails.map((email) => {
    // Validate at the edge: what leaves for Notification must match its contract.
    const request = notification.SendEmailRequest.parse(email);
    return {
      interview_id: interviewId,
      purpose: request.purpose,
      recipient: request.to.email.toLowerCase(),
      request: JSON.stringify(request),
      next_attempt_at: sql<Date>`now() + ${FAST_PATH_RESERVATION_MS} * interval '1 millisecond'`,
      // The fast path's attempt, counted when it is reserved: that path sends without claiming the row.
      attempts: 1,
      parsed: request,
    };
  });
}

/** Pairs the ids an insert returned (an email already queued is not returned) with the requests queued. */
export function queuedEmails(rows: ReturnType<typeof outboxRows>, inserted: readonly { id: number; purpose: string; recipient: string }[], reservedUntil: number): QueuedEmail[] {
  return inserted.map((r) => {
    const row = rows.find((x) => x.purpose === r.purpose && x.recipient === r.recipient);
    if (!row) throw new Error(`outbox returned a row it was not given: ${r.purpose} to ${r.recipient}`);
    return { id: r.id, request: row.parsed, reservedUntil };
  });
}

/**
 * Queues emails for Notification in the caller's transaction: committed together with the booking,
 * or not at all. Returns the rows queued (an email already queued is not queued again).
 */
export async function enqueueEmails(trx: HrTx, interviewId: string, emails: readonly notification.SendEmailRequest[]): Promise<QueuedEmail[]> {
  if (emails.length === 0) return [];
  const reservedUntil = Date.now() + FAST_PATH_RESERVATION_MS;
  const rows = outboxRows(interviewId, emails);
  const inserted = await trx
    .insertInto('outbox')
    .values(rows.map(({ parsed: _parsed, ...row }) => row))
    .onConflict((oc) => oc.columns(['purpose', 'recipient']).doNothing())
    .returning(['id', 'purpose', 'recipient'])
    .execute();
  return queuedEmails(rows, inserted, reservedUntil);
}
