import type { Migration } from '@ems/platform';

/**
 * The `webhooks` schema. Invariants the database holds:
 * - one live webhook per URL (a partial unique index; a deleted webhook frees its URL), one per Idempotency-Key;
 * - deleting keeps the row (deleted_at) so its delivery history stays readable.
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
];
