import { sql } from 'kysely';
import { notification } from '@ems/contracts';
import type { HrTx } from '../db/hr.db.ts';

/**
 * How long a freshly queued invite is reserved for the request that queued it: the request delivers
 * it right after committing (fast path); the relay only takes over if that did not happen (process
 * crash), so the two do not race for the same email.
 */
export const FAST_PATH_RESERVATION_MS = 30_000;

/**
 * Queues emails for Notification in the caller's transaction: committed together with the booking,
 * or not at all. Returns the ids of the rows queued (an email already queued is not queued again).
 */
export async function enqueueEmails(trx: HrTx, interviewId: string, emails: readonly notification.SendEmailRequest[]): Promise<number[]> {
  if (emails.length === 0) return [];
  const rows = emails.map((email) => {
    // Validate at the edge: what leaves for Notification must match its contract.
    const request = notification.SendEmailRequest.parse(email);
    return {
      interview_id: interviewId,
      purpose: request.purpose,
      recipient: request.to.email.toLowerCase(),
      request: JSON.stringify(request),
      next_attempt_at: sql<Date>`now() + ${FAST_PATH_RESERVATION_MS} * interval '1 millisecond'`,
    };
  });
  const queued = await trx
    .insertInto('outbox')
    .values(rows)
    .onConflict((oc) => oc.columns(['purpose', 'recipient']).doNothing())
    .returning('id')
    .execute();
  return queued.map((r) => r.id);
}
