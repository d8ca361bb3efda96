import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Actor } from '@ems/platform';
import type { GrantStatus } from '../domain/hold.ts';
import type { RevocationStatus } from '../domain/revocation.ts';

/** The PostgreSQL schema the Access service owns. */
export const ACCESS_SCHEMA = 'access';

/** Row types of the `access` schema (see migrations.ts), for Kysely. */

type Timestamp = ColumnType<Date, Date, Date>;

export type ConnectorType = 'builtin' | 'ldap' | 'scim' | 'http';

export interface SystemsTable {
  id: string;
  name: string;
  critical: boolean;
  /** How Access carries its decisions to the system: `builtin` = rows here only (the demo's systems). */
  connector: Generated<ConnectorType>;
}

export interface IdentitiesTable {
  employee_id: string;
  status: Generated<'active' | 'disabled'>;
  /** The directory's email of the person (AccountRef.email for connectors); null until known. */
  email: ColumnType<string | null, string | null | undefined, string | null>;
  /** The version of the directory record the row was last updated from (0: seeded, never from the directory). */
  directory_version: Generated<number>;
}

export interface GrantsTable {
  id: string;
  employee_id: string;
  system_id: string;
  role: string;
  status: Generated<GrantStatus>;
  suspended_by_hold: string | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface HoldsTable {
  id: string;
  resignation_id: string;
  employee_id: string;
  status: Generated<'active' | 'released'>;
  reason: string | null;
  created_at: Timestamp;
  released_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  release_reason: string | null;
  idempotency_key: string | null;
  /**
   * What the hold suspends (migration 8): `critical` = the active grants on critical systems (a
   * resignation), `all` = every active grant (an involuntary exit, suspend-access-for-exit/).
   */
  scope: Generated<HoldScope>;
}

export type HoldScope = 'critical' | 'all';

export interface HoldGrantsTable {
  hold_id: string;
  grant_id: string;
  prior_status: GrantStatus;
}

/** A column written once, on insert, and never updated: the audit is append-only (see migrations.ts). */
type InsertOnly<T, I = T> = ColumnType<T, I, never>;

/**
 * One grant status change or system-level event. Rows are only ever inserted, through recordAudit
 * (audit/record-audit.ts), each with an audit_pending row; the sealer (audit/seal-audit.ts) links them
 * into the hash chain later (audit_chain).
 */
export interface AuditTable {
  id: Generated<number>;
  at: InsertOnly<Date>;
  employee_id: InsertOnly<string>;
  /** The grant whose status changed; null on a system-level row (event set). */
  grant_id: InsertOnly<string | null>;
  system_id: InsertOnly<string>;
  /** null on a system-level row, and on a grant discovered on a system (it had no status before). */
  from_status: InsertOnly<GrantStatus | null>;
  to_status: InsertOnly<GrantStatus | null>;
  reason: InsertOnly<string>;
  hold_id: InsertOnly<string | null>;
  /** jsonb: who made the change (inserted as its JSON text). */
  actor: InsertOnly<Actor, string>;
  /** jsonb: whom the actor acted for, if anyone. */
  on_behalf_of: InsertOnly<Actor | null, string | null>;
  /** null: a grant status change; otherwise what happened on a system (see AuditEvent). */
  event: ColumnType<AuditEvent | null, AuditEvent | null | undefined, never>;
  /** jsonb: the system-level event's detail (change id, action, entitlements, verification or error…). */
  detail: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
}

/**
 * The hash chain (migration 9): one row per sealed audit entry, in the order the sealer linked them.
 * `hash` = SHA-256 of `prev_hash` and the entry's canonical content (audit/chain.ts). Append-only.
 */
export interface AuditChainTable {
  /** Position in the chain, 1, 2, 3 … (assigned by the sealer, not the entry's id order). */
  seq: InsertOnly<number>;
  audit_id: InsertOnly<number>;
  /** Hex SHA-256 of the previous entry in the chain; null for the first. */
  prev_hash: InsertOnly<string | null>;
  hash: InsertOnly<string>;
}

/** An audit entry written but not yet linked into the chain; the sealer removes it when it links the entry. */
export interface AuditPendingTable {
  audit_id: number;
}

/** System-level audit rows: a connector's outcome, drift found, a grant discovered on a system. */
export type AuditEvent = 'system_access_changed' | 'system_access_change_failed' | 'access_drift_detected' | 'grant_discovered';

export type ConnectorTaskAction = 'suspend' | 'restore' | 'revoke';
export type ConnectorTaskStatus = 'pending' | 'done' | 'failed';

/**
 * One connected system's part of a hold, release or revocation (migration 5): written with it, carried
 * out by the connector worker (connectors/apply-changes/).
 */
export interface ConnectorTasksTable {
  /** The change id the connector receives (its idempotency key). */
  id: string;
  /** Creation order. */
  seq: Generated<string>;
  hold_id: string | null;
  revocation_id: string | null;
  resignation_id: string | null;
  employee_id: string;
  system_id: string;
  connector: Exclude<ConnectorType, 'builtin'>;
  action: ConnectorTaskAction;
  entitlements: string[];
  status: Generated<ConnectorTaskStatus>;
  /** Attempts started (a claim counts one, also when its process died before recording the outcome). */
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  leased_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  lease_token: ColumnType<string | null, string | null | undefined, string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_error_code: ColumnType<string | null, string | null | undefined, string | null>;
  verification: ColumnType<string | null, string | null | undefined, string | null>;
  correlation_id: string;
  traceparent: string | null;
  /** jsonb Actor: on whose behalf the change was decided; the worker's audit rows name them. */
  requested_by: ColumnType<Actor | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  done_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface RevocationsTable {
  id: string;
  resignation_id: string;
  employee_id: string;
  status: Generated<RevocationStatus>;
  /** The due instant, in clock time; the timer fires when `clock.now()` reaches it. */
  revoke_at: Timestamp;
  revision: number;
  reason: string | null;
  /** Carried into the events the revocation publishes, also when the timer fires it much later. */
  correlation_id: string;
  traceparent: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  done_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Failed attempts of the timer to execute it (each rolled back), and the last error. */
  attempts: Generated<number>;
  last_error: string | null;
  /**
   * jsonb: on whose behalf the revocation was (last) requested — the caller, or whom a service said it
   * acts for, or the decidedBy of the exit-confirmed event. The timer's audit entries name them.
   */
  requested_by: ColumnType<Actor | null, string | null | undefined, string | null>;
}

export interface RevocationGrantsTable {
  revocation_id: string;
  grant_id: string;
  system_id: string;
}

export interface RevocationKeysTable {
  idempotency_key: string;
  revocation_id: string;
}

/** A difference a reconciliation found between a connected system and Access (migration 7; detect-drift/). */
export interface DriftsTable {
  id: string;
  employee_id: string;
  system_id: string;
  kind: 'account_enabled' | 'entitlement_added' | 'entitlement_missing';
  /** null for account_enabled. */
  entitlement: string | null;
  /** The case whose hold or revocation the system contradicts. */
  resignation_id: string | null;
  detail: string;
  detected_at: Timestamp;
  /** Set when a later reconciliation no longer finds it; one open row per (employee, system, kind, entitlement). */
  resolved_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** The reconciler's one row: when the last round ended and which process runs one now (migration 7). */
export interface ReconcilerTable {
  id: Generated<boolean>;
  /** Database time; a round is due once a process's interval has passed since. */
  last_round_at: Timestamp;
  /** The running round's lease (database time) and token; null when no round runs. */
  running_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  run_token: ColumnType<string | null, string | null | undefined, string | null>;
  /** jsonb: the last finished round's summary (access.Reconciliation). */
  last_round: ColumnType<unknown, string | null | undefined, string | null>;
}

/**
 * One chunk of an involuntary or mass exit, suspended once (migration 8; suspend-access-for-exit/): the row is
 * claimed first in the chunk's transaction, so a concurrent or later repeat waits for it, then answers
 * `outcome` (the exitAccessSuspended payload) and changes nothing.
 */
export interface ExitSuspensionsTable {
  batch_id: string;
  chunk: number;
  /** jsonb: the exitAccessSuspended payload; written before the transaction commits. */
  outcome: ColumnType<unknown, string | null | undefined, string>;
  created_at: Timestamp;
}

export interface AccessDB {
  systems: SystemsTable;
  identities: IdentitiesTable;
  grants: GrantsTable;
  holds: HoldsTable;
  hold_grants: HoldGrantsTable;
  audit: AuditTable;
  audit_chain: AuditChainTable;
  audit_pending: AuditPendingTable;
  revocations: RevocationsTable;
  revocation_grants: RevocationGrantsTable;
  revocation_keys: RevocationKeysTable;
  connector_tasks: ConnectorTasksTable;
  drifts: DriftsTable;
  reconciler: ReconcilerTable;
  exit_suspensions: ExitSuspensionsTable;
}

export type AccessDb = Kysely<AccessDB>;
export type AccessTx = Transaction<AccessDB>;
