import { sql } from 'kysely';
import { notFound, paged } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { toHoldView, toHoldViews } from './hold.view.ts';

type HoldListQuery = z.infer<typeof access.HoldListQuery>;

/** Holds, oldest first, optionally for one resignation or one employee. */
export async function listHolds(db: AccessDb, query: HoldListQuery, employeeIds?: readonly string[]): Promise<z.infer<typeof access.HoldList>> {
  let q = db.selectFrom('holds').selectAll();
  if (query.resignationId) q = q.where('resignation_id', '=', query.resignationId);
  if (query.employeeId) q = q.where('employee_id', '=', query.employeeId);
  // The caller's rows only (undefined: every row).
  if (employeeIds) q = employeeIds.length ? q.where('employee_id', 'in', [...employeeIds]) : q.where(sql<boolean>`false`);
  const rows = await q.orderBy('created_at').orderBy('id').limit(query.limit + 1).offset(query.offset).execute();
  const page = paged(rows, query);
  return { items: await toHoldViews(db, page.items), nextOffset: page.nextOffset };
}

export async function getHold(db: AccessDb, id: string, visible: (employeeId: string) => boolean = () => true): Promise<access.AccessHold> {
  const row = await db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirst();
  // One the caller may not see answers exactly like an unknown one.
  if (!row || !visible(row.employee_id)) throw notFound(`No access hold ${id}`);
  return toHoldView(db, row);
}
