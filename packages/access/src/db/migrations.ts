import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

/**
 * The `access` schema. Invariants the database itself holds:
 * - one hold per resignation (holds.resignation_id UNIQUE), one per Idempotency-Key;
 * - a grant names the hold that suspended it only while it is suspended;
 * - hold_grants lists exactly the grants a hold took from another status to `suspended`, with that status;
 * - one revocation per resignation; it is done iff it has a done_at; an Idempotency-Key names one revocation.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'systems, identities, grants, holds, audit',
    sql: `
      CREATE TABLE systems (
        id text PRIMARY KEY,
        name text NOT NULL,
        critical boolean NOT NULL
      );

      CREATE TABLE identities (
        employee_id text PRIMARY KEY,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled'))
      );

      CREATE TABLE holds (
        id uuid PRIMARY KEY,
        resignation_id uuid NOT NULL,
        employee_id text NOT NULL REFERENCES identities (employee_id),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'released')),
        reason text,
        created_at timestamptz NOT NULL,
        released_at timestamptz,
        release_reason text,
        idempotency_key text,
        CONSTRAINT holds_resignation_id_key UNIQUE (resignation_id),
        CONSTRAINT holds_idempotency_key_key UNIQUE (idempotency_key),
        CONSTRAINT holds_released_at_matches_status CHECK ((status = 'released') = (released_at IS NOT NULL))
      );
      CREATE INDEX holds_employee_idx ON holds (employee_id, created_at);

      CREATE TABLE grants (
        id text PRIMARY KEY,
        employee_id text NOT NULL REFERENCES identities (employee_id),
        system_id text NOT NULL REFERENCES systems (id),
        role text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
        suspended_by_hold uuid REFERENCES holds (id),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT grants_hold_only_while_suspended CHECK (suspended_by_hold IS NULL OR status = 'suspended')
      );
      CREATE INDEX grants_employee_idx ON grants (employee_id);

      CREATE TABLE hold_grants (
        hold_id uuid NOT NULL REFERENCES holds (id),
        grant_id text NOT NULL REFERENCES grants (id),
        prior_status text NOT NULL CHECK (prior_status IN ('active', 'suspended', 'revoked')),
        PRIMARY KEY (hold_id, grant_id)
      );

      CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        employee_id text NOT NULL,
        grant_id text NOT NULL,
        system_id text NOT NULL,
        from_status text NOT NULL CHECK (from_status IN ('active', 'suspended', 'revoked')),
        to_status text NOT NULL CHECK (to_status IN ('active', 'suspended', 'revoked')),
        reason text NOT NULL,
        hold_id uuid REFERENCES holds (id)
      );
      CREATE INDEX audit_employee_idx ON audit (employee_id, id);
      CREATE INDEX audit_hold_idx ON audit (hold_id, id);
    `,
  },
  // Event ids each subscriber has handled, recorded in the same transaction as the hold (choreography).
  processedEventsMigration(2),
  {
    version: 3,
    name: 'revocations (durable timers) with the grants each revoked',
    // One revocation per resignation; a scheduled one is a timer row the poller claims when revoke_at
    // has passed (partial index: only pending timers are scanned).
    sql: `
      CREATE TABLE revocations (
        id uuid PRIMARY KEY,
        resignation_id uuid NOT NULL,
        employee_id text NOT NULL REFERENCES identities (employee_id),
        status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'done', 'cancelled')),
        revoke_at timestamptz NOT NULL,
        revision integer NOT NULL CHECK (revision >= 1),
        reason text,
        correlation_id text NOT NULL,
        traceparent text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        done_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        CONSTRAINT revocations_resignation_id_key UNIQUE (resignation_id),
        CONSTRAINT revocations_done_at_matches_status CHECK ((status = 'done') = (done_at IS NOT NULL))
      );
      CREATE INDEX revocations_due_idx ON revocations (revoke_at, id) WHERE status = 'scheduled';
      CREATE INDEX revocations_employee_idx ON revocations (employee_id, created_at);

      CREATE TABLE revocation_grants (
        revocation_id uuid NOT NULL REFERENCES revocations (id),
        grant_id text NOT NULL REFERENCES grants (id),
        system_id text NOT NULL,
        PRIMARY KEY (revocation_id, grant_id)
      );

      CREATE TABLE revocation_keys (
        idempotency_key text PRIMARY KEY,
        revocation_id uuid NOT NULL REFERENCES revocations (id)
      );
    `,
  },
];
