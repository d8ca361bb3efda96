import { paged } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';

type AuditListQuery = z.infer<typeof access.AuditListQuery>;

/**
 * The access audit trail in the order it was written (by id), optionally for one employee or hold; each
 * entry with its link in the hash chain, or shown as pending while the sealer has not linked it yet.
 */
export async function listAudit(db: AccessDb, query: AuditListQuery): Promise<z.infer<typeof access.AuditList>> {
  let q = db.selectFrom('audit as a').leftJoin('audit_chain as c', 'c.audit_id', 'a.id').selectAll('a').select(['c.seq', 'c.prev_hash', 'c.hash']);
  if (query.employeeId) q = q.where('a.employee_id', '=', query.employeeId);
  if (query.holdId) q = q.where('a.hold_id', '=', query.holdId);
  if (query.fromId !== undefined) q = q.where('a.id', '>=', query.fromId);
  const rows = await q.orderBy('a.id').limit(query.limit + 1).offset(query.offset).execute();
  const page = paged(rows, query);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      employeeId: r.employee_id,
      grantId: r.grant_id,
      system: r.system_id,
      from: r.from_status,
      to: r.to_status,
      reason: r.reason,
      holdId: r.hold_id,
      actor: r.actor,
      onBehalfOf: r.on_behalf_of,
      pending: r.seq === null,
      chainSeq: r.seq,
      prevHash: r.prev_hash,
      hash: r.hash,
      event: r.event,
      detail: r.detail,
    })),
    nextOffset: page.nextOffset,
  };
}
