import type { Migration } from '@ems/platform';

/**
 * Migration 7 of the `access` schema: drift detection.
 * - drifts: what reconciliations found; one OPEN row per (employee, system, kind, entitlement) — a
 *   partial unique index, so a drift found again while open is not recorded (nor reported) twice, and
 *   one resolved may be found anew later;
 * - reconciler: one row saying when the last round ended and which process runs one now (a lease), so
 *   every process hosting Access may poll it and one round runs at a time, at the configured period.
 */
export const driftsMigration: Migration = {
  version: 7,
  name: 'drift detection: drifts (one open per employee, system, kind, entitlement) and the reconciler row',
  sql: `
    CREATE TABLE drifts (
      id uuid PRIMARY KEY,
      employee_id text NOT NULL REFERENCES identities (employee_id),
      system_id text NOT NULL REFERENCES systems (id),
      kind text NOT NULL CHECK (kind IN ('account_enabled', 'entitlement_added', 'entitlement_missing')),
      entitlement text,
      resignation_id uuid,
      detail text NOT NULL CHECK (length(detail) BETWEEN 1 AND 2000),
      detected_at timestamptz NOT NULL,
      resolved_at timestamptz,
      CONSTRAINT drifts_entitlement_matches_kind CHECK ((kind = 'account_enabled') = (entitlement IS NULL)),
      CONSTRAINT drifts_resolved_after_detected CHECK (resolved_at IS NULL OR resolved_at >= detected_at)
    );
    CREATE UNIQUE INDEX drifts_one_open ON drifts (employee_id, system_id, kind, coalesce(entitlement, '')) WHERE resolved_at IS NULL;
    CREATE INDEX drifts_newest ON drifts (detected_at DESC, id DESC);
    CREATE INDEX drifts_open_newest ON drifts (detected_at DESC, id DESC) WHERE resolved_at IS NULL;
    CREATE INDEX drifts_resignation_idx ON drifts (resignation_id, detected_at) WHERE resignation_id IS NOT NULL;

    CREATE TABLE reconciler (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      last_round_at timestamptz NOT NULL,
      running_until timestamptz,
      run_token uuid,
      last_round jsonb,
      CONSTRAINT reconciler_lease_whole CHECK ((running_until IS NULL) = (run_token IS NULL))
    );
    INSERT INTO reconciler (last_round_at) VALUES ('-infinity');
  `,
};
