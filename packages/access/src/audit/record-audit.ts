import { sql } from 'kysely';
import type { AccessTx, AuditEvent } from '../db/access.db.ts';
import type { GrantStatus } from '../domain/hold.ts';
import type { AuditBy } from './actor.ts';
import { chainRows, type AuditContent } from './chain.ts';

/** One grant status change to audit. */
export interface AuditChange {
  at: Date;
  employeeId: string;
  grantId: string;
  systemId: string;
  from: GrantStatus;
  to: GrantStatus;
  reason: string;
  holdId: string | null;
}

/**
 * One system-level event to audit: a connector's outcome for a system, drift found on it, a grant
 * discovered there. `grantId`/`from`/`to` only for `grant_discovered` (from null, to its status).
 */
export interface SystemAuditEntry {
  at: Date;
  employeeId: string;
  systemId: string;
  event: AuditEvent;
  /** In words, for the audit list ("suspend applied on corp-ldap: bind as … refused"). */
  reason: string;
  holdId: string | null;
  /** A JSON object (strings, integers, booleans, arrays, objects): stored as jsonb, hashed canonically. */
  detail: Record<string, unknown>;
  grantId?: string | null;
  from?: GrantStatus | null;
  to?: GrantStatus | null;
}

/** The advisory lock every audit insert takes: one writer at a time extends the chain. */
export const AUDIT_CHAIN_LOCK = 'access.audit';

/**
 * The one way into the access audit: appends `changes`, made by `by`, to the hash chain in the caller's
 * transaction.
 *
 * Rows are chained in id order, so writers must not interleave: the transaction takes
 * pg_advisory_xact_lock(hashtext('access.audit')) (held until it commits or rolls back), then reads
 * the last row's hash — a fresh READ COMMITTED snapshot, so it sees every chain commit before the lock
 * was granted — computes each row's hash and inserts them. The lock is taken as late as possible (the
 * callers write the audit last but for their events) to keep the serialised stretch short. A unique
 * index on prev_hash (migrations.ts) turns any writer that bypassed this into an error, not a fork.
 */
export async function recordAudit(trx: AccessTx, by: AuditBy, changes: readonly AuditChange[]): Promise<void> {
  await appendAudit(
    trx,
    changes.map((c) => ({
      at: c.at,
      employee_id: c.employeeId,
      grant_id: c.grantId,
      system_id: c.systemId,
      from_status: c.from,
      to_status: c.to,
      reason: c.reason,
      hold_id: c.holdId,
      actor: by.actor,
      on_behalf_of: by.onBehalfOf,
    })),
  );
}

/** Appends system-level rows (connector outcomes, drift, discovered grants) to the same chain, the same way. */
export async function recordSystemAudit(trx: AccessTx, by: AuditBy, entries: readonly SystemAuditEntry[]): Promise<void> {
  await appendAudit(
    trx,
    entries.map((e) => ({
      at: e.at,
      employee_id: e.employeeId,
      grant_id: e.grantId ?? null,
      system_id: e.systemId,
      from_status: e.from ?? null,
      to_status: e.to ?? null,
      reason: e.reason,
      hold_id: e.holdId,
      actor: by.actor,
      on_behalf_of: by.onBehalfOf,
      event: e.event,
      // Through JSON once, so what is hashed is exactly what jsonb gives back (no undefined, no Dates).
      detail: JSON.parse(JSON.stringify(e.detail)) as Record<string, unknown>,
    })),
  );
}

async function appendAudit(trx: AccessTx, contents: readonly AuditContent[]): Promise<void> {
  if (contents.length === 0) return;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${AUDIT_CHAIN_LOCK}))`.execute(trx);
  const last = await trx.selectFrom('audit').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const rows = chainRows(last?.hash ?? null, contents);
  const inserted = await trx
    .insertInto('audit')
    .values(
      rows.map((r) => ({
        at: r.at,
        employee_id: r.employee_id,
        grant_id: r.grant_id,
        system_id: r.system_id,
        from_status: r.from_status as GrantStatus | null,
        to_status: r.to_status as GrantStatus | null,
        reason: r.reason,
        hold_id: r.hold_id,
        actor: JSON.stringify(r.actor),
        on_behalf_of: r.on_behalf_of === null ? null : JSON.stringify(r.on_behalf_of),
        prev_hash: r.prev_hash,
        hash: r.hash,
        event: (r.event ?? null) as AuditEvent | null,
        detail: r.detail == null ? null : JSON.stringify(r.detail),
      })),
    )
    .returning(['id', 'hash'])
    .execute();
  // The chain is in id order: the ids must follow the order the hashes were chained in (one multi-row
  // INSERT numbers its rows in order; this guards that assumption rather than leave a broken chain).
  const byId = [...inserted].sort((a, b) => a.id - b.id);
  if (byId.some((r, i) => r.hash !== rows[i]!.hash)) throw new Error('access audit: inserted rows were numbered out of chain order');
}
