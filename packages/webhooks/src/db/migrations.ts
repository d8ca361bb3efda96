import type { Migration } from '@ems/platform';

/**
 * The `webhooks` schema. Invariants the database holds:
 * - one live webhook per URL (a partial unique index; a deleted webhook frees its URL), one per Idempotency-Key;
 * - deleting keeps the row (deleted_at) so its delivery history stays readable;
 * - a signing secret is stored encrypted (`v1.…`), or — only until the service starts — in plain text (`whsec_…`).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'webhooks and their deliveries',
    sql: `
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
        description text,
        secret text NOT NULL,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz,
        idempotency_key text,
        CONSTRAINT webhooks_idempotency_key_key UNIQUE (idempotency_key)
      );
      CREATE UNIQUE INDEX webhooks_live_url_key ON webhooks (url) WHERE deleted_at IS NULL;

      CREATE TABLE deliveries (
        id bigserial PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhooks (id),
        event_id text NOT NULL,
        event_type text NOT NULL,
        attempt integer NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead-lettered')),
        status_code integer,
        error text,
        duration_ms integer,
        at timestamptz NOT NULL
      );
      CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id);
      CREATE INDEX deliveries_webhook_event_idx ON deliveries (webhook_id, event_id) WHERE outcome = 'delivered';
    `,
  },
  {
    version: 2,
    name: 'webhook secrets encrypted at rest',
    // The secret is kept encrypted with the installation's secrets key (see domain/secret-at-rest.ts).
    // This migration has no key, so it cannot encrypt: it renames the column and leaves the values. The
    // formats tell the two apart — a ciphertext starts with `v1.`, a plain secret with `whsec_` — and the
    // service's start() encrypts every plain row before it subscribes anything (encrypt-plaintext-secrets.ts);
    // a delivery never signs with a plain row. The rename also makes a process of the earlier release fail
    // loudly on this schema rather than sign with a ciphertext as if it were the secret.
    sql: `
      ALTER TABLE webhooks RENAME COLUMN secret TO secret_encrypted;
      ALTER TABLE webhooks ADD CONSTRAINT webhooks_secret_format
        CHECK (starts_with(secret_encrypted, 'v1.') OR starts_with(secret_encrypted, 'whsec_'));
    `,
  },
];
