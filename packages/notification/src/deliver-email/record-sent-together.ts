import { sql, type Kysely } from 'kysely';
import { arrayParam, groupCommit, type Clock } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import { outcomeEvent } from './outcome-event.ts';
import type { Claimed } from './claim-together.ts';

/** An email whose SMTP exchange ended well, and the claim it was sent under. */
export type SentEmail = Claimed;

/** Records "sent" for an email still held by `token`: the updated row, or undefined if the claim was lost. */
export type RecordSent = (email: SentEmail) => Promise<EmailRow | undefined>;

/** The most emails recorded by one statement. */
const MAX_TOGETHER = 100;

/**
 * "Sent" recorded for the emails whose sends end at the same time, together (platform's groupCommit, as
 * Access writes its holds): while one batch is being written, the emails whose sends end wait and go in
 * the next one. At a low rate an email is recorded at once, alone; in a burst one statement records many.
 *
 *   sends that end ──► one UPDATE … WHERE (id, claim_token) IN (the batch's pairs) RETURNING *
 *                                   └─ with a bus and manager notices among them: in one transaction with their
 *                                      managerNotified events, so each event exists iff its email's "sent" does
 *
 * Each email is still recorded only under its own claim token: one whose claim was lost meanwhile is
 * left as it is (answered undefined), the others of its batch are recorded. Decision notices are not
 * recorded here: each one's transaction locks its announcement (settle-announcement.ts).
 */
export function createSentRecorder(deps: { db: Kysely<NotificationDB>; clock: Clock; bus?: EventBus | undefined }): RecordSent {
  const { db, clock, bus } = deps;

  const write = async (batch: readonly SentEmail[]): Promise<(EmailRow | undefined)[]> => {
    const update = (on: Kysely<NotificationDB>, now: Date) =>
      on
        .updateTable('emails')
        .set({ status: 'sent', claim_token: null, claimed_until: null, sent_at: now, last_error: null })
        // One text whatever the batch's size: the pairs travel as two arrays.
        .where(
          sql<boolean>`("id", "claim_token") in (select * from unnest(${arrayParam(batch.map((e) => e.row.id), 'uuid')}, ${arrayParam(batch.map((e) => e.token), 'uuid')}))`,
        )
        .returningAll()
        .execute();
    const reportsOutcome = bus !== undefined && batch.some((e) => e.row.template === 'resignation-manager-notice');
    const rows = reportsOutcome
      ? await db.transaction().execute(async (trx) => {
          const now = clock.now();
          const updated = await update(trx, now);
          const events = updated.flatMap((row) => outcomeEvent(row, now) ?? []);
          if (events.length > 0) await bus.publish(trx, events);
          return updated;
        })
      : await update(db, clock.now());
    const byId = new Map(rows.map((r) => [r.id, r]));
    return batch.map((e) => byId.get(e.row.id));
  };

  return groupCommit<SentEmail, EmailRow | undefined>({
    together: async (batch) => (await write(batch)).map((value) => ({ ok: true as const, value })),
    alone: async (email) => (await write([email]))[0],
    max: MAX_TOGETHER,
    atOnce: 1,
  });
}
