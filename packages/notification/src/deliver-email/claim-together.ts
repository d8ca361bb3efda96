import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { arrayParam, groupCommit, type Clock } from '@ems/platform';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';

/** An email claimed for sending: the row as the claim left it, and the token that holds the claim. */
export interface Claimed {
  row: EmailRow;
  token: string;
}

/** Claims the queued, due, unclaimed email `id`: undefined when it is not (sent, not due, or someone holds it). */
export type ClaimById = (id: string) => Promise<Claimed | undefined>;

/**
 * The emails a claim may take — queued, due, and unclaimed or with a run-out lease —, whoever claims:
 * the dispatcher (deliver-email.ts) or the fast paths (below).
 */
export function claimable<O>(emails: SelectQueryBuilder<NotificationDB, 'emails', O>, now: Date): SelectQueryBuilder<NotificationDB, 'emails', O> {
  return (
    emails
      // A literal, not a parameter: a prepared statement's generic plan can then use the partial index
      // emails_due (WHERE status = 'queued'); with `status = $1` it could not, and read every email.
      .where('status', '=', sql.lit('queued'))
      .where('next_attempt_at', '<=', now)
      .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
  );
}

/** The most emails claimed by one statement. */
const MAX_TOGETHER = 100;

/**
 * Claims of emails asked for by id (a POST's fast path, once it holds a send slot) made together (platform's
 * groupCommit): while one claim statement is running, the claims asked for meanwhile wait and go in the
 * next one, under one token. At a low rate a claim goes at once, alone; in a burst, when the SMTP
 * exchanges that end free several send slots, one statement claims an email for each.
 *
 *   UPDATE emails SET attempts + 1, claim_token, claimed_until
 *   WHERE id IN (the batch's ids that are queued, due and unclaimed — FOR UPDATE SKIP LOCKED) RETURNING *
 *
 * The claim is the same as one email's (deliver-email.ts): the same conditions, lease and attempt count.
 * The token is shared by the batch; the claim is still each email's own, as every later write names the
 * email and its token. An id asked for twice in one batch is claimed once: the second asker is answered
 * as if someone else held it.
 */
export function createClaimer(deps: { db: Kysely<NotificationDB>; clock: Clock; leaseMs: number }): ClaimById {
  const { db, clock, leaseMs } = deps;

  const claim = async (ids: readonly string[]): Promise<(Claimed | undefined)[]> => {
    const now = clock.now();
    const token = randomUUID();
    const rows = await db
      .updateTable('emails')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), claim_token: token, claimed_until: new Date(now.getTime() + leaseMs) }))
      .where('id', 'in', (eb) =>
        claimable(
          eb
            .selectFrom('emails')
            .select('id')
            // One text whatever the batch's size: the ids travel as one array.
            .where(sql<boolean>`"id" = any(${arrayParam(ids, 'uuid')})`),
          now,
        )
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      // Handed to the first asker only.
      byId.delete(id);
      return row ? { row, token } : undefined;
    });
  };

  return groupCommit<string, Claimed | undefined>({
    together: async (ids) => (await claim(ids)).map((value) => ({ ok: true as const, value })),
    alone: async (id) => (await claim([id]))[0],
    max: MAX_TOGETHER,
    atOnce: 1,
  });
}
