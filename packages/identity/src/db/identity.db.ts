import type { ColumnType, Kysely, Selectable } from 'kysely';

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
  sessions: SessionsTable;
  oidc_models: OidcModelsTable;
  signing_keys: SigningKeysTable;
}

export type IdentityDb = Kysely<IdentityDB>;
export type PersonRow = Selectable<PeopleTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
