import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';
import { driftsMigration } from './drifts.migration.ts';
import { auditChainMigration } from './audit-chain.migration.ts';

/**
 * The `access` schema. Invariants the database itself holds:
 * - one hold per resignation (holds.resignation_id UNIQUE), one per Idempotency-Key;
 * - a grant names the hold that suspended it only while it is suspended;
 * - hold_grants lists exactly the grants a hold took from another status to `suspended`, with that status;
 * - one revocation per resignation; it is done iff it has a done_at; an Idempotency-Key names one revocation;
 * - the audit is append-only (no UPDATE, DELETE or TRUNCATE) and one hash chain: every row but the first
 *   names its predecessor's hash, and no two rows name the same one (since migration 9 the chain lives in
 *   audit_chain, as append-only, and an entry not yet linked has an audit_pending row).
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
  {
    version: 4,
    name: 'audit: actor and on-behalf-of, append-only, hash-chained; revocations remember who requested them',
    // Rows written before this migration were made by the Access service for a caller nobody recorded:
    // they get the access service as actor (client "access") and no on_behalf_of.
    //
    // The chain: hash = hex(sha256(coalesce(prev_hash, '') || canonical JSON of the row's content)),
    // canonical exactly as src/audit/chain.ts defines it (sorted keys, no whitespace, JSON string
    // escaping — to_json(text) escapes as JSON.stringify does —, at as ISO 8601 UTC with milliseconds).
    // The existing rows are chained here, in id order, with PostgreSQL's built-in sha256(bytea) (11+);
    // their actor is the constant above and on_behalf_of null, so those two parts are literals.
    // ACCESS EXCLUSIVE (ALTER TABLE) keeps writers out while this runs.
    //
    // Append-only: triggers refuse UPDATE and DELETE of any row and TRUNCATE of the table, whoever
    // asks; the privileges are revoked from PUBLIC and from the role running the migrations (the
    // table's owner, normally the application's role: an owner keeps its privileges unless revoked
    // from it by name). Neither binds a superuser — the embedded default connects as one — nor the
    // owner's right to ALTER TABLE … DISABLE TRIGGER: only the hash chain tells that someone did.
    // A deployment that wants the database to refuse that too runs the service as a role that does not
    // own the schema (see docs).
    sql: `
      ALTER TABLE audit
        ADD COLUMN actor jsonb,
        ADD COLUMN on_behalf_of jsonb,
        ADD COLUMN prev_hash text,
        ADD COLUMN hash text;

      UPDATE audit SET actor = '{"id":"access","kind":"service","name":null,"role":"service","client":"access"}';

      DO $chain$
      DECLARE
        r record;
        prev text := NULL;
        h text;
      BEGIN
        FOR r IN SELECT * FROM audit ORDER BY id LOOP
          h := encode(sha256(convert_to(coalesce(prev, '')
            || '{"actor":{"client":"access","id":"access","kind":"service","name":null,"role":"service"}'
            || ',"at":' || to_json(to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
            || ',"employee_id":' || to_json(r.employee_id)::text
            || ',"from_status":' || to_json(r.from_status)::text
            || ',"grant_id":' || to_json(r.grant_id)::text
            || ',"hold_id":' || coalesce(to_json(r.hold_id::text)::text, 'null')
            || ',"on_behalf_of":null'
            || ',"reason":' || to_json(r.reason)::text
            || ',"system_id":' || to_json(r.system_id)::text
            || ',"to_status":' || to_json(r.to_status)::text
            || '}', 'UTF8')), 'hex');
          UPDATE audit SET prev_hash = prev, hash = h WHERE id = r.id;
          prev := h;
        END LOOP;
      END
      $chain$;

      ALTER TABLE audit
        ALTER COLUMN actor SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        ADD CONSTRAINT audit_actor_is_object CHECK (jsonb_typeof(actor) = 'object'),
        ADD CONSTRAINT audit_on_behalf_of_is_object CHECK (on_behalf_of IS NULL OR jsonb_typeof(on_behalf_of) = 'object'),
        ADD CONSTRAINT audit_hash_is_sha256 CHECK (hash ~ '^[0-9a-f]{64}$'),
        ADD CONSTRAINT audit_prev_hash_is_sha256 CHECK (prev_hash IS NULL OR prev_hash ~ '^[0-9a-f]{64}$');
      -- One chain, no forks: a row's predecessor is named once, and only one row starts the chain.
      CREATE UNIQUE INDEX audit_prev_hash_key ON audit (prev_hash);
      CREATE UNIQUE INDEX audit_one_chain_start ON audit ((prev_hash IS NULL)) WHERE prev_hash IS NULL;

      CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_LEVEL = 'ROW' THEN
          RAISE EXCEPTION 'access.audit is append-only: % of row % refused', TG_OP, OLD.id
            USING ERRCODE = 'insufficient_privilege', HINT = 'Audit rows are never changed or removed; record a new change instead.';
        END IF;
        RAISE EXCEPTION 'access.audit is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege', HINT = 'Audit rows are never changed or removed.';
      END
      $fn$;
      CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
        FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
      CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

      REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC;
      REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM CURRENT_USER;

      -- Who asked for a revocation (jsonb Actor), so the timer firing it later acts on their behalf.
      ALTER TABLE revocations ADD COLUMN requested_by jsonb
        CONSTRAINT revocations_requested_by_is_object CHECK (requested_by IS NULL OR jsonb_typeof(requested_by) = 'object');
    `,
  },
  {
    version: 5,
    name: 'connected systems: connector tasks, identities with email and directory version, systems with connector type',
    // A connector task is one system's part of a hold, a release or a revocation, written in the same
    // transaction as it (see connectors/plan-connector-tasks.ts). The worker claims a due one with a lease
    // (leased_until, lease_token) so no transaction stays open across the network call; it records the
    // outcome only while its lease holds. `seq` is creation order: per (employee, system) a task waits
    // while an older one is pending.
    sql: `
      ALTER TABLE systems ADD COLUMN connector text NOT NULL DEFAULT 'builtin'
        CONSTRAINT systems_connector_known CHECK (connector IN ('builtin', 'ldap', 'scim', 'http'));

      -- The directory's email (AccountRef.email) and the version of the person record it came from.
      ALTER TABLE identities
        ADD COLUMN email text,
        ADD COLUMN directory_version integer NOT NULL DEFAULT 0;

      CREATE TABLE connector_tasks (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        hold_id uuid REFERENCES holds (id),
        revocation_id uuid REFERENCES revocations (id),
        resignation_id uuid,
        employee_id text NOT NULL REFERENCES identities (employee_id),
        system_id text NOT NULL REFERENCES systems (id),
        connector text NOT NULL CHECK (connector IN ('ldap', 'scim', 'http')),
        action text NOT NULL CHECK (action IN ('suspend', 'restore', 'revoke')),
        entitlements text[] NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL,
        leased_until timestamptz,
        lease_token uuid,
        last_error text,
        last_error_code text,
        verification text,
        correlation_id text NOT NULL,
        traceparent text,
        requested_by jsonb CHECK (requested_by IS NULL OR jsonb_typeof(requested_by) = 'object'),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        done_at timestamptz,
        CONSTRAINT connector_tasks_one_origin CHECK ((hold_id IS NULL) <> (revocation_id IS NULL)),
        CONSTRAINT connector_tasks_done_at_matches_status CHECK ((status = 'pending') = (done_at IS NULL)),
        CONSTRAINT connector_tasks_lease_whole CHECK ((leased_until IS NULL) = (lease_token IS NULL))
      );
      CREATE INDEX connector_tasks_due_idx ON connector_tasks (next_attempt_at, seq) WHERE status = 'pending';
      CREATE INDEX connector_tasks_queue_idx ON connector_tasks (employee_id, system_id, seq) WHERE status = 'pending';
      CREATE INDEX connector_tasks_hold_idx ON connector_tasks (hold_id) WHERE hold_id IS NOT NULL;
      CREATE INDEX connector_tasks_revocation_idx ON connector_tasks (revocation_id) WHERE revocation_id IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'audit: system-level rows (a connector outcome, drift) beside grant status changes',
    // A row is either a grant status change (event NULL: grant, from and to as before) or a system-level
    // event with its detail (jsonb). Existing rows are untouched and keep their hashes: event and detail
    // enter the canonical JSON only when non-null (src/audit/chain.ts), and every existing row has them null.
    sql: `
      ALTER TABLE audit
        ALTER COLUMN grant_id DROP NOT NULL,
        ALTER COLUMN from_status DROP NOT NULL,
        ALTER COLUMN to_status DROP NOT NULL,
        ADD COLUMN event text
          CONSTRAINT audit_event_known CHECK (event IN ('system_access_changed', 'system_access_change_failed', 'access_drift_detected', 'grant_discovered')),
        ADD COLUMN detail jsonb
          CONSTRAINT audit_detail_is_object CHECK (detail IS NULL OR jsonb_typeof(detail) = 'object'),
        ADD CONSTRAINT audit_grant_change_whole CHECK (event IS NOT NULL OR (grant_id IS NOT NULL AND from_status IS NOT NULL AND to_status IS NOT NULL));
      CREATE INDEX audit_system_idx ON audit (system_id, id);
    `,
  },
  // Drift detection (detect-drift/): drifts, one open per (employee, system, kind, entitlement), and the reconciler's row.
  driftsMigration,
  {
    version: 8,
    name: 'involuntary and mass exits: holds with a scope, one suspension per exit chunk',
    // scope 'all': an exit hold suspends every active grant, critical or not (suspend-access-for-exit/).
    // exit_suspensions: the (batch, chunk) idempotency record and its recorded outcome; claimed first in
    // the chunk's transaction, so a repeat waits for the first and then only reads it.
    sql: `
      ALTER TABLE holds ADD COLUMN scope text NOT NULL DEFAULT 'critical'
        CONSTRAINT holds_scope_known CHECK (scope IN ('critical', 'all'));

      CREATE TABLE exit_suspensions (
        batch_id uuid NOT NULL,
        chunk integer NOT NULL CHECK (chunk >= 1),
        outcome jsonb CHECK (outcome IS NULL OR jsonb_typeof(outcome) = 'object'),
        created_at timestamptz NOT NULL,
        PRIMARY KEY (batch_id, chunk)
      );
    `,
  },
  // The chain sealed after the fact, off the writers' transactions (audit/seal-audit.ts).
  auditChainMigration,
  {
    version: 10,
    name: 'processed events: the subscriber lift-hold-when-resignation-closed is restore-access-when-resignation-closed',
    // One name per action: the subscriber was renamed (the bus moves its queue or consumer: formerNames).
    // Its records move with it, so an event it handled under the old name is not handled again under the
    // new one; an event recorded under both names keeps the new name's row. Literal names: a migration
    // must not change when a constant does. A process of the previous version still running after this
    // records under the old name again — stop it before migrating.
    sql: `
      UPDATE processed_events AS p SET subscriber = 'access.restore-access-when-resignation-closed'
        WHERE p.subscriber = 'access.lift-hold-when-resignation-closed'
          AND NOT EXISTS (
            SELECT 1 FROM processed_events AS q
            WHERE q.subscriber = 'access.restore-access-when-resignation-closed' AND q.event_id = p.event_id
          );
      DELETE FROM processed_events WHERE subscriber = 'access.lift-hold-when-resignation-closed';
    `,
  },
  {
    version: 11,
    name: 'connector tasks: the due index per system; vacuumed sooner',
    // The worker's claim reads each system's first due tasks (claim-due-tasks.ts). On an index over all systems
    // every system's read walked the others' entries too, and, at the head, the entries of tasks already done
    // that no vacuum had removed yet (a mass exit marks thousands done a minute): the claim grew from 4 ms to
    // 21 ms (mean) over a 22,500-task run. Per system, a read walks its own entries only; and the table is
    // vacuumed after 2 % of it changed (plus 200 rows), not 20 %, so those dead entries do not pile up.
    sql: `
      CREATE INDEX connector_tasks_due_by_system_idx ON connector_tasks (system_id, next_attempt_at, seq) WHERE status = 'pending';
      DROP INDEX connector_tasks_due_idx;
      ALTER TABLE connector_tasks SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 200,
        autovacuum_analyze_scale_factor = 0.05, autovacuum_analyze_threshold = 200);
    `,
  },
];
