import type { ColumnType, Kysely, Selectable, Transaction } from 'kysely';

/** Row types of the `identity` schema (see migrations.ts), for Kysely. */

export const IDENTITY_SCHEMA = 'identity';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface PeopleTable {
  id: string;
  kind: 'employee' | 'hr_partner' | 'hr_lead';
  name: string;
  email: string;
  title: string | null;
  manager_id: string | null;
  hr_partner_id: string | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  // Migration 2: the directory as a real organisation's.
  department: ColumnType<string | null, string | null | undefined, string | null>;
  location: ColumnType<string | null, string | null | undefined, string | null>;
  /** IANA time zone. */
  timezone: ColumnType<string, string | undefined, string>;
  /** ISO weekdays (1 = Monday); hours 'HH:mm' local to `timezone`. */
  work_days: ColumnType<number[], number[] | undefined, number[]>;
  work_start: ColumnType<string, string | undefined, string>;
  work_end: ColumnType<string, string | undefined, string>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  /** Counts up with every real change (followers apply a snapshot only over an older one). */
  version: ColumnType<number, number | undefined, number>;
  /** SCIM userName (unique, case-insensitively); the email unless SCIM set another. */
  user_name: string;
  /** SCIM externalId: the provisioning client's own id (unique when set). */
  external_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface RoleAssignmentsTable {
  person_id: string;
  role: 'hr_lead' | 'access_admin' | 'operator';
}

export interface ApiTokensTable {
  id: string;
  name: string;
  hash: string;
  person_id: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  last_used_at: Timestamp | null;
}

export interface ProvisioningTokensTable {
  id: string;
  name: string;
  hash: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
  last_used_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  hash: string;
  person_id: string;
  client: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  absolute_expires_at: Timestamp;
  revoked_at: Timestamp | null;
  refresh_token: string | null;
  id_token: string | null;
}

export interface OidcModelsTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk: string;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface IdentityDB {
  people: PeopleTable;
  role_assignments: RoleAssignmentsTable;
  api_tokens: ApiTokensTable;
  provisioning_tokens: ProvisioningTokensTable;
  sessions: SessionsTable;
  oidc_models: OidcModelsTable;
  signing_keys: SigningKeysTable;
}

export type IdentityDb = Kysely<IdentityDB>;
export type PersonRow = Selectable<PeopleTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type ProvisioningTokenRow = Selectable<ProvisioningTokensTable>;
export type IdentityTx = Transaction<IdentityDB>;
