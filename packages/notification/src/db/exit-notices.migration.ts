import type { Migration } from '@ems/platform';

/**
 * Migration 6 of the `notification` schema: involuntary-exit notices (tell-exit/).
 *
 * exit_notices: one row per (batch, chunk). It is the chunk's idempotency record (`outcome`, the
 * exitNoticesSent payload, set in the transaction that queued the emails) and, in choreography, where
 * the two halves wait for each other: `started` (the involuntaryExitsStarted payload: who) and
 * `suspended` (the exitAccessSuspended payload: the go-ahead), in whichever order they come. Each
 * handler writes its half with an upsert that locks the row, so the second half to arrive sees the first
 * and sends; both are cleared once sent.
 */
export const exitNoticesMigration: Migration = {
  version: 6,
  name: 'involuntary-exit notices: one row per (batch, chunk), its halves until sent, then its outcome',
  sql: `
    CREATE TABLE exit_notices (
      batch_id uuid NOT NULL,
      chunk integer NOT NULL CHECK (chunk >= 1),
      started jsonb CHECK (started IS NULL OR jsonb_typeof(started) = 'object'),
      suspended jsonb CHECK (suspended IS NULL OR jsonb_typeof(suspended) = 'object'),
      outcome jsonb CHECK (outcome IS NULL OR jsonb_typeof(outcome) = 'object'),
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (batch_id, chunk)
    );
  `,
};
