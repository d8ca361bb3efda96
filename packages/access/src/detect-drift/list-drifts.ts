import { paged } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';

type DriftListQuery = z.infer<typeof access.DriftListQuery>;

/** Drifts found by reconciliations, newest first: the open ones (default) or all, optionally for one person, system or case. */
export async function listDrifts(db: AccessDb, query: DriftListQuery): Promise<z.infer<typeof access.DriftList>> {
  let q = db.selectFrom('drifts').selectAll();
  if (query.status === 'open') q = q.where('resolved_at', 'is', null);
  if (query.employeeId) q = q.where('employee_id', '=', query.employeeId);
  if (query.systemId) q = q.where('system_id', '=', query.systemId);
  if (query.resignationId) q = q.where('resignation_id', '=', query.resignationId);
  const rows = await q
    .orderBy('detected_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .offset(query.offset)
    .execute();
  const page = paged(rows, query);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      employeeId: r.employee_id,
      systemId: r.system_id,
      kind: r.kind,
      entitlement: r.entitlement,
      resignationId: r.resignation_id,
      detail: r.detail,
      detectedAt: r.detected_at.toISOString(),
      resolvedAt: r.resolved_at ? r.resolved_at.toISOString() : null,
    })),
    nextOffset: page.nextOffset,
  };
}
