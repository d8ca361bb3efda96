import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessTx, type AuditEvent } from '../db/access.db.ts';
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
  await recordAuditEntries(
    trx,
    changes.map((change) => ({ change, by })),
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

/**
 * Changes each made by its own `by` (a chunk of an exit: each person's changes audited as asked for by
 * that person's caller) — the same chain, the same single INSERT as recordAudit.
 */
export async function recordAuditEntries(trx: AccessTx, entries: ReadonlyArray<{ change: AuditChange; by: AuditBy }>): Promise<void> {
  await appendAudit(
    trx,
    entries.map(({ change: c, by }) => ({
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

/**
 * Chains `contents` in JS (audit/chain.ts) and inserts them with ONE statement whatever their number:
 * INSERT … SELECT over unnest arrays has 14 parameters (a multi-row VALUES of 5,000 rows would need
 * 70,000, past PostgreSQL's 65,535) and one plan. WITH ORDINALITY … ORDER BY n makes the bigserial ids
 * follow the order the hashes were chained in; the ids returned are checked against it.
 */
async function appendAudit(trx: AccessTx, contents: readonly AuditContent[]): Promise<void> {
  if (contents.length === 0) return;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${AUDIT_CHAIN_LOCK}))`.execute(trx);
  const last = await trx.selectFrom('audit').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const rows = chainRows(last?.hash ?? null, contents);
  const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
  // Each distinct actor's JSON made once (a chunk's rows share a handful of actor objects).
  const json = new Map<object, string>();
  const jsonOf = (v: object | null | undefined): string | null => {
    if (v == null) return null;
    let j = json.get(v);
    if (j === undefined) json.set(v, (j = JSON.stringify(v)));
    return j;
  };
  const { rows: inserted } = await sql<{ id: string; hash: string }>`
    INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.audit`)}
      (at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, prev_hash, hash, event, detail)
    SELECT u.at, u.employee_id, u.grant_id, u.system_id, u.from_status, u.to_status, u.reason, u.hold_id,
           u.actor::jsonb, u.on_behalf_of::jsonb, u.prev_hash, u.hash, u.event, u.detail::jsonb
      FROM unnest(
        ${col((r) => r.at.toISOString())}::timestamptz[], ${col((r) => r.employee_id)}::text[], ${col((r) => r.grant_id)}::text[],
        ${col((r) => r.system_id)}::text[], ${col((r) => r.from_status)}::text[], ${col((r) => r.to_status)}::text[],
        ${col((r) => r.reason)}::text[], ${col((r) => r.hold_id)}::uuid[], ${col((r) => jsonOf(r.actor))}::text[],
        ${col((r) => jsonOf(r.on_behalf_of))}::text[], ${col((r) => r.prev_hash)}::text[], ${col((r) => r.hash)}::text[],
        ${col((r) => r.event ?? null)}::text[], ${col((r) => (r.detail == null ? null : JSON.stringify(r.detail)))}::text[]
      ) WITH ORDINALITY AS u(at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, prev_hash, hash, event, detail, n)
     ORDER BY u.n
    RETURNING id, hash`.execute(trx);
  // bigint ids come back as strings: compare numerically.
  const byId = [...inserted].sort((a, b) => Number(a.id) - Number(b.id));
  if (byId.length !== rows.length || byId.some((r, i) => r.hash !== rows[i]!.hash)) throw new Error('access audit: inserted rows were numbered out of chain order');
}
