import type { Insertable, Kysely } from 'kysely';
import { groupCommit } from '@ems/platform';
import type { EmailRow, EmailsTable, NotificationDB } from '../db/notification.db.ts';

/** A new email's row, as send-email.ts builds it. */
export type EmailInsert = Insertable<EmailsTable>;

/**
 * Stores new emails, each once (ON CONFLICT DO NOTHING: either unique index — natural key or Idempotency-Key —
 * refuses a repeat): the rows it inserted. The caller finds what refused the others.
 */
export type StoreEmails = (rows: readonly EmailInsert[]) => Promise<EmailRow[]>;

/** The most requests whose emails one statement stores. */
const MAX_TOGETHER = 32;

/**
 * The emails of requests that arrive at the same time (POST /api/email-batches, /api/emails, the orchestrator's
 * manager notices) stored by one INSERT (platform's groupCommit, as "sent" is recorded): in a burst each request's
 * emails were an autocommit of their own. A request made while none is being stored goes at once, alone. Each
 * request gets back only its own rows; if the statement fails, each request's rows are stored alone, so a row the
 * database refuses fails only its own request. Not for a transaction's emails (an event handler's): those commit
 * with the transaction.
 */
export function createEmailStore(db: Kysely<NotificationDB>): StoreEmails {
  const insert = (rows: readonly EmailInsert[]) => db.insertInto('emails').values([...rows]).onConflict((oc) => oc.doNothing()).returningAll().execute();
  return groupCommit<readonly EmailInsert[], EmailRow[]>({
    together: async (batch) => {
      const byId = new Map((await insert(batch.flat())).map((r) => [r.id, r]));
      return batch.map((rows) => ({ ok: true as const, value: rows.flatMap((r) => byId.get(r.id) ?? []) }));
    },
    alone: insert,
    max: MAX_TOGETHER,
    // One statement at a time: two at once could insert the same repeat in opposite orders (a deadlock).
    atOnce: 1,
  });
}
