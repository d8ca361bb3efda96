import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessTx, type AuditEvent } from '../db/access.db.ts';
import type { GrantStatus } from '../domain/hold.ts';
import type { AuditBy } from './actor.ts';
import type { AuditContent } from './chain.ts';

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

/** The advisory lock the sealer (audit/seal-audit.ts) takes: one sealer at a time extends the chain. */
export const AUDIT_CHAIN_LOCK = 'access.audit';

/**
 * The one way into the access audit: records `changes`, made by `by`, in the caller's transaction.
 *
 * No lock and no read: the entries are inserted with one audit_pending row each, in one statement, and
 * commit (or roll back) with the effect they record. The sealer links them into the hash chain soon
 * after, under the chain's lock (audit/seal-audit.ts) — so concurrent holds never wait for each other
 * here, and an entry whose transaction commits is never lost: its pending row says it still has to be linked.
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
 * Inserts `contents` and their audit_pending rows with ONE statement whatever their number: INSERT …
 * SELECT over unnest arrays has 12 parameters (a multi-row VALUES of 5,000 rows would need 60,000, past
 * PostgreSQL's 65,535) and one plan. WITH ORDINALITY … ORDER BY n numbers the entries in the order given,
 * which is the order the sealer links entries of one transaction in.
 */
async function appendAudit(trx: AccessTx, contents: readonly AuditContent[]): Promise<void> {
  if (contents.length === 0) return;
  const col = <T>(f: (r: AuditContent) => T): T[] => contents.map(f);
  // Each distinct actor's JSON made once (a chunk's rows share a handful of actor objects).
  const json = new Map<object, string>();
  const jsonOf = (v: object | null | undefined): string | null => {
    if (v == null) return null;
    let j = json.get(v);
    if (j === undefined) json.set(v, (j = JSON.stringify(v)));
    return j;
  };
  await sql`
    WITH entries AS (
      INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.audit`)}
        (at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, event, detail)
      SELECT u.at, u.employee_id, u.grant_id, u.system_id, u.from_status, u.to_status, u.reason, u.hold_id,
             u.actor::jsonb, u.on_behalf_of::jsonb, u.event, u.detail::jsonb
        FROM unnest(
          ${col((r) => r.at.toISOString())}::timestamptz[], ${col((r) => r.employee_id)}::text[], ${col((r) => r.grant_id)}::text[],
          ${col((r) => r.system_id)}::text[], ${col((r) => r.from_status)}::text[], ${col((r) => r.to_status)}::text[],
          ${col((r) => r.reason)}::text[], ${col((r) => r.hold_id)}::uuid[], ${col((r) => jsonOf(r.actor))}::text[],
          ${col((r) => jsonOf(r.on_behalf_of))}::text[], ${col((r) => r.event ?? null)}::text[],
          ${col((r) => (r.detail == null ? null : JSON.stringify(r.detail)))}::text[]
        ) WITH ORDINALITY AS u(at, employee_id, grant_id, system_id, from_status, to_status, reason, hold_id, actor, on_behalf_of, event, detail, n)
       ORDER BY u.n
      RETURNING id
    )
    INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.audit_pending`)} (audit_id) SELECT id FROM entries`.execute(trx);
}
