import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

/**
 * The `access` schema. Invariants the database itself holds:
 * - one hold per resignation (holds.resignation_id UNIQUE), one per Idempotency-Key;
 * - a grant names the hold that suspended it only while it is suspended;
 * - hold_grants lists exactly the grants a hold took from another status to `suspended`, with that status.
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
];
