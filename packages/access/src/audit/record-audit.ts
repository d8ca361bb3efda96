import { sql } from 'kysely';
import type { AccessTx } from '../db/access.db.ts';
import type { GrantStatus } from '../domain/hold.ts';
import type { AuditBy } from './actor.ts';
import { chainRows } from './chain.ts';

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
  if (changes.length === 0) return;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${AUDIT_CHAIN_LOCK}))`.execute(trx);
  const last = await trx.selectFrom('audit').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const rows = chainRows(
    last?.hash ?? null,
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
  const inserted = await trx
    .insertInto('audit')
    .values(
      rows.map((r) => ({
        at: r.at,
        employee_id: r.employee_id,
        grant_id: r.grant_id,
        system_id: r.system_id,
        from_status: r.from_status,
        to_status: r.to_status,
        reason: r.reason,
        hold_id: r.hold_id,
        actor: JSON.stringify(r.actor),
        on_behalf_of: r.on_behalf_of === null ? null : JSON.stringify(r.on_behalf_of),
        prev_hash: r.prev_hash,
        hash: r.hash,
      })),
    )
    .returning(['id', 'hash'])
    .execute();
  // The chain is in id order: the ids must follow the order the hashes were chained in (one multi-row
  // INSERT numbers its rows in order; this guards that assumption rather than leave a broken chain).
  const byId = [...inserted].sort((a, b) => a.id - b.id);
  if (byId.some((r, i) => r.hash !== rows[i]!.hash)) throw new Error('access audit: inserted rows were numbered out of chain order');
}
