import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';
import { exitNoticesMigration } from './exit-notices.migration.ts';

/**
 * The `notification` schema. Never edit a shipped migration; add a new one.
 *
 * Invariants the tables enforce (not the code):
 * - one email per (resignation, purpose, recipient), however often it is requested;
 * - an Idempotency-Key names at most one email;
 * - an email is claimed for sending by at most one worker at a time (claim_token + claimed_until lease).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'emails',
    sql: `
      CREATE TABLE emails (
        id uuid PRIMARY KEY,
        resignation_id uuid NOT NULL,
        purpose text NOT NULL,
        recipient text NOT NULL,
        recipient_name text,
        template text NOT NULL,
        data jsonb NOT NULL,
        subject text NOT NULL,
        text text NOT NULL,
        html text NOT NULL,
        -- [{ filename, contentType, content }]; ICS files are small text.
        attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL,
        -- Fixed at insert and reused by every attempt, so a resend after a crash carries the same Message-ID.
        message_id text NOT NULL,
        last_error text,
        idempotency_key text,
        -- Lease of the worker sending it right now; an expired lease means that worker died mid-send.
        claim_token uuid,
        claimed_until timestamptz,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        CONSTRAINT emails_sent_has_time CHECK ((status = 'sent') = (sent_at IS NOT NULL))
      );

      -- Mailbox names are case-insensitive in practice: Bob@x and bob@x are one recipient.
      CREATE UNIQUE INDEX emails_natural_key ON emails (resignation_id, purpose, lower(recipient));
      CREATE UNIQUE INDEX emails_idempotency_key ON emails (idempotency_key) WHERE idempotency_key IS NOT NULL;

      -- The dispatcher's question: which queued emails are due?
      CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'queued';
      -- Listing, newest first, optionally per case.
      CREATE INDEX emails_newest ON emails (created_at DESC, id DESC);
      CREATE INDEX emails_by_resignation ON emails (resignation_id, created_at DESC);
    `,
  },
  // Event ids each subscriber has handled, recorded in the same transaction as the email (choreography).
  processedEventsMigration(2),
  {
    version: 3,
    name: 'emails remember the case and trace that asked for them',
    sql: `
      -- Carried into the outcome event published when the email is sent or given up (choreography and
      -- webhooks). NULL for emails stored before; the event then uses the resignation id.
      ALTER TABLE emails ADD COLUMN correlation_id text;
      ALTER TABLE emails ADD COLUMN traceparent text;
      -- The event the email was sent in reaction to; NULL when it was requested over HTTP.
      ALTER TABLE emails ADD COLUMN causation_id text;
    `,
  },
  {
    version: 4,
    name: 'decision announcements settle once',
    sql: `
      -- One row per announcement of a decision (the emails whose purpose is
      -- decision-notice:<decision>:<revision>:<audience>). Whoever records a final status of one of its
      -- emails locks this row first, so two emails finishing at once are judged one after the other, and
      -- the outcome event is published once: in the transaction that sets outcome.
      CREATE TABLE decision_announcements (
        resignation_id uuid NOT NULL,
        decision text NOT NULL CHECK (decision IN ('retained', 'withdrawn', 'exit_confirmed')),
        revision integer NOT NULL CHECK (revision >= 1),
        outcome text CHECK (outcome IN ('announced', 'failed')),
        settled_at timestamptz,
        PRIMARY KEY (resignation_id, decision, revision),
        CONSTRAINT decision_announcements_settled_has_time CHECK ((outcome IS NULL) = (settled_at IS NULL))
      );
    `,
  },
  {
    version: 5,
    name: 'decision notices say their revision in their data',
    sql: `
      -- What an email is for is its template and typed data, never its purpose (a key only): a decision
      -- notice's announcement (decision, revision) is read from its data. Notices stored before carried
      -- the revision only in the purpose decision-notice:<decision>:<revision>:<audience>: copied once, here.
      UPDATE emails
         SET data = jsonb_set(data, '{revision}', to_jsonb(split_part(purpose, ':', 3)::int))
       WHERE template = 'resignation-decision-notice'
         AND NOT data ? 'revision'
         AND purpose ~ '^decision-notice:[a-z_]+:[0-9]{1,9}:[a-z]+$';
    `,
  },
  // Involuntary-exit notices (tell-exit/): one row per (batch, chunk).
  exitNoticesMigration,
];
