import type { Migration } from '@ems/platform';

/**
 * Migration 9 of the `access` schema: the hash chain leaves the writers' transactions.
 *
 * Until now every audit insert took the chain's advisory lock, read the last hash and chained its rows
 * in the effect's own transaction — one writer at a time, so in a burst every hold waited for the
 * previous hold's commit. Now:
 * - `audit` keeps the entries' content only (still append-only); a writer inserts its entries and one
 *   `audit_pending` row per entry in the same statement, without a lock;
 * - `audit_chain` is the chain: one row per sealed entry, in the order the sealer linked them (`seq`,
 *   assigned by the sealer — so an entry whose transaction commits after a later id was sealed is simply
 *   linked later: commit order never matters), with `prev_hash` and `hash` as audit/chain.ts defines them.
 *   Append-only like `audit` (triggers, privileges), one chain (prev_hash unique, one start);
 * - the sealer (audit/seal-audit.ts) links pending entries under the chain's lock and removes their
 *   `audit_pending` rows in the same transaction: an entry is pending or sealed, never both, never lost.
 *
 * The existing chain moves as it is: each row's prev_hash and hash become its audit_chain row, `seq` in id
 * order (the order it was chained in), so every hash stays what it was; the two columns then leave
 * `audit` (the chain has one home). Writers are kept out while this runs (see the first statement).
 */
export const auditChainMigration: Migration = {
  version: 9,
  name: 'audit: the hash chain sealed after the fact (audit_chain, audit_pending) — no chain lock in the writers',
  sql: `
    -- No LOCK TABLE: it needs UPDATE, DELETE or TRUNCATE on audit, which its owner revoked from itself
    -- (migration 4). The foreign key below takes SHARE ROW EXCLUSIVE on audit, which keeps writers out
    -- until this commits; the DROP COLUMN further down takes ACCESS EXCLUSIVE.
    CREATE TABLE audit_chain (
      seq bigint PRIMARY KEY CONSTRAINT audit_chain_seq_positive CHECK (seq >= 1),
      audit_id bigint NOT NULL CONSTRAINT audit_chain_one_seal_per_entry UNIQUE REFERENCES audit (id),
      prev_hash text CONSTRAINT audit_chain_prev_hash_is_sha256 CHECK (prev_hash IS NULL OR prev_hash ~ '^[0-9a-f]{64}$'),
      hash text NOT NULL CONSTRAINT audit_chain_hash_is_sha256 CHECK (hash ~ '^[0-9a-f]{64}$')
    );
    -- One chain, no forks: a predecessor is named once, and only one entry starts the chain.
    CREATE UNIQUE INDEX audit_chain_prev_hash_key ON audit_chain (prev_hash);
    CREATE UNIQUE INDEX audit_chain_one_start ON audit_chain ((prev_hash IS NULL)) WHERE prev_hash IS NULL;

    INSERT INTO audit_chain (seq, audit_id, prev_hash, hash)
      SELECT row_number() OVER (ORDER BY id), id, prev_hash, hash FROM audit;

    DROP INDEX audit_prev_hash_key;
    DROP INDEX audit_one_chain_start;
    ALTER TABLE audit DROP COLUMN prev_hash, DROP COLUMN hash;

    -- Entries written but not yet linked: a small queue the sealer empties.
    CREATE TABLE audit_pending (
      audit_id bigint PRIMARY KEY REFERENCES audit (id)
    );

    -- The same refusal for both append-only tables, naming the table.
    CREATE OR REPLACE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_LEVEL = 'ROW' THEN
          RAISE EXCEPTION '%.% is append-only: % of row % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
            coalesce(to_jsonb(OLD) ->> 'id', to_jsonb(OLD) ->> 'seq')
            USING ERRCODE = 'insufficient_privilege', HINT = 'Audit rows are never changed or removed; record a new change instead.';
        END IF;
        RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege', HINT = 'Audit rows are never changed or removed.';
      END
    $fn$;
    CREATE TRIGGER audit_chain_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_chain
      FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
    CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
      FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain FROM PUBLIC;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain FROM CURRENT_USER;
  `,
};
