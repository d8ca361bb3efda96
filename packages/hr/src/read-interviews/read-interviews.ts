import { sql } from 'kysely';
import { notFound, paged, type PageQuery } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { toInterview } from '../interviews/interview.view.ts';

export interface InterviewFilter extends PageQuery {
  resignationId?: string | undefined;
  hrPartnerId?: string | undefined;
  /** Starting in [from, to): the inbox's "today" and "this week". */
  from?: string | undefined;
  to?: string | undefined;
  status?: hr.InterviewStatus | undefined;
  /** Only interviews of these employees (the caller's rows); undefined: all. */
  employeeIds?: readonly string[] | undefined;
}

export async function listInterviews(ctx: HrContext, filter: InterviewFilter): Promise<{ items: hr.Interview[]; nextOffset: number | null }> {
  let q = ctx.db.selectFrom('interviews').selectAll();
  if (filter.resignationId) q = q.where('resignation_id', '=', filter.resignationId);
  if (filter.hrPartnerId) q = q.where('hr_partner_id', '=', filter.hrPartnerId);
  if (filter.from) q = q.where('starts_at', '>=', new Date(filter.from));
  if (filter.to) q = q.where('starts_at', '<', new Date(filter.to));
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.employeeIds) q = filter.employeeIds.length ? q.where('employee_id', 'in', [...filter.employeeIds]) : q.where(sql<boolean>`false`);
  // A time window reads as an agenda (earliest first); otherwise the order the interviews were booked in.
  const ordered = filter.from || filter.to ? q.orderBy('starts_at').orderBy('id') : q.orderBy('created_at').orderBy('id');
  const rows = await ordered.limit(filter.limit + 1).offset(filter.offset).execute();
  return paged(rows.map((row) => toInterview(row)), filter);
}

export async function getInterview(ctx: HrContext, id: string): Promise<hr.Interview> {
  const row = await ctx.db.selectFrom('interviews').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`No interview ${id}`);
  return toInterview(row);
}
