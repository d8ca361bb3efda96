import { sql } from 'kysely';
import { notFound, paged } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { toRevocationView, toRevocationViews } from './revocation.view.ts';

type RevocationListQuery = z.infer<typeof access.RevocationListQuery>;

/** Revocations, oldest first, optionally for one resignation or employee, or in one status. */
export async function listRevocations(db: AccessDb, query: RevocationListQuery, employeeIds?: readonly string[]): Promise<z.infer<typeof access.RevocationList>> {
  let q = db.selectFrom('revocations').selectAll();
  if (query.resignationId) q = q.where('resignation_id', '=', query.resignationId);
  if (query.employeeId) q = q.where('employee_id', '=', query.employeeId);
  // The caller's rows only (undefined: every row).
  if (employeeIds) q = employeeIds.length ? q.where('employee_id', 'in', [...employeeIds]) : q.where(sql<boolean>`false`);
  if (query.status) q = q.where('status', '=', query.status);
  const rows = await q.orderBy('created_at').orderBy('id').limit(query.limit + 1).offset(query.offset).execute();
  const page = paged(rows, query);
  return { items: await toRevocationViews(db, page.items), nextOffset: page.nextOffset };
}

export async function getRevocation(db: AccessDb, id: string, visible: (employeeId: string) => boolean = () => true): Promise<access.Revocation> {
  const row = await db.selectFrom('revocations').selectAll().where('id', '=', id).executeTakeFirst();
  // One the caller may not see answers exactly like an unknown one.
  if (!row || !visible(row.employee_id)) throw notFound(`No access revocation ${id}`);
  return toRevocationView(db, row);
}
