import type { Migration } from '@ems/platform';

/**
 * The `identity` schema: the directory as authorization sees it (people, their relationships, their
 * administrative roles), API tokens, browser sessions, and the built-in provider's state and keys.
 * Every process reads `people`, `role_assignments`, `api_tokens` and `sessions` to admit requests;
 * only the identity service writes them.
 * Invariants the database holds:
 * - an email belongs to one person (case-insensitively);
 * - a token or a session is stored as a hash only; a revoked one stays, with when it was revoked;
 * - a signing key's private half is stored encrypted with the installation's secrets key.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'people, roles, tokens, sessions, provider state',
    sql: `
      CREATE TABLE people (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('employee', 'hr_partner', 'hr_lead')),
        name text NOT NULL,
        email text NOT NULL,
        title text,
        manager_id text,
        hr_partner_id text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX people_email_key ON people (lower(email));
      CREATE INDEX people_manager_idx ON people (manager_id) WHERE manager_id IS NOT NULL;
      CREATE INDEX people_hr_partner_idx ON people (hr_partner_id) WHERE hr_partner_id IS NOT NULL;

      CREATE TABLE role_assignments (
        person_id text NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('hr_lead', 'access_admin', 'operator')),
        PRIMARY KEY (person_id, role)
      );

      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        hash text NOT NULL UNIQUE,
        person_id text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        revoked_by text,
        last_used_at timestamptz
      );

      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        hash text NOT NULL UNIQUE,
        person_id text NOT NULL,
        client text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        absolute_expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        -- The provider's refresh token (encrypted) and ID token (for RP-initiated logout).
        refresh_token text,
        id_token text
      );
      CREATE INDEX sessions_expiry_idx ON sessions (absolute_expires_at);

      CREATE TABLE oidc_models (
        model text NOT NULL,
        id text NOT NULL,
        payload jsonb NOT NULL,
        grant_id text,
        user_code text,
        uid text,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX oidc_models_grant_idx ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_models_user_code_idx ON oidc_models (user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_models_uid_idx ON oidc_models (uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_models_expiry_idx ON oidc_models (expires_at);

      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        private_jwk text NOT NULL,
        created_at timestamptz NOT NULL,
        -- Set when a newer key took over signing: still published (tokens it signed stay valid) until pruned.
        retired_at timestamptz
      );
    `,
  },
  {
    version: 2,
    name: "the directory as a real organisation's: department, place, hours, active, version, SCIM names",
    // Identity is the directory's master (CSV import and SCIM write it, apply-people.ts). version counts up with
    // every real change of a person: services holding a copy apply a snapshot only over an older one. A person
    // is never deleted, only made inactive. Rows already there get Monday to Friday 09:00-17:00 in UTC until
    // the next seed or import; their SCIM userName is their email.
    sql: `
      ALTER TABLE people
        ADD COLUMN department text,
        ADD COLUMN location text,
        ADD COLUMN timezone text NOT NULL DEFAULT 'UTC',
        ADD COLUMN work_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}'
          CHECK (work_days <@ ARRAY[1,2,3,4,5,6,7]::smallint[] AND cardinality(work_days) BETWEEN 1 AND 7),
        ADD COLUMN work_start text NOT NULL DEFAULT '09:00' CHECK (work_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        ADD COLUMN work_end text NOT NULL DEFAULT '17:00' CHECK (work_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        ADD COLUMN active boolean NOT NULL DEFAULT true,
        ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
        ADD COLUMN user_name text,
        ADD COLUMN external_id text,
        ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
        ADD CONSTRAINT people_work_hours CHECK (work_start < work_end),
        ADD CONSTRAINT people_not_own_manager CHECK (manager_id IS DISTINCT FROM id),
        ADD CONSTRAINT people_not_own_hr_partner CHECK (hr_partner_id IS DISTINCT FROM id);
      UPDATE people SET user_name = email;
      ALTER TABLE people ALTER COLUMN user_name SET NOT NULL;
      CREATE UNIQUE INDEX people_user_name_key ON people (lower(user_name));
      CREATE UNIQUE INDEX people_external_id_key ON people (external_id) WHERE external_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'provisioning tokens: the SCIM client acts as the provisioning service identity, never as a person',
    // Like api_tokens, stored as a hash only, shown once; read only by the identity service (which serves /scim).
    sql: `
      CREATE TABLE provisioning_tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        hash text NOT NULL UNIQUE,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_by text,
        last_used_at timestamptz
      );
    `,
  },
];
