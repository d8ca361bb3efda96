import { notFound, paged, type PageQuery } from '@ems/platform';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';

/** The people directory: employees with their department, manager and HR partner; the HR partners with their lead. */

export interface EmployeeFilter extends PageQuery {
  departmentId?: string | undefined;
  /** Case-insensitive substring of the name or the email. */
  q?: string | undefined;
}

function employeeQuery(ctx: HrContext) {
  return ctx.db
    .selectFrom('employees as e')
    .innerJoin('departments as d', 'd.id', 'e.department_id')
    .innerJoin('hr_partners as p', 'p.id', 'e.hr_partner_id')
    .leftJoin('employees as m', 'm.id', 'e.manager_id')
    .select([
      'e.id', 'e.name', 'e.email', 'e.title', 'e.location', 'e.timezone', 'e.work_days', 'e.work_start', 'e.work_end',
      'd.id as department_id', 'd.name as department_name',
      'm.id as manager_id', 'm.name as manager_name', 'm.email as manager_email',
      'p.id as partner_id', 'p.name as partner_name', 'p.email as partner_email', 'p.timezone as partner_timezone',
    ]);
}

type EmployeeJoinRow = Awaited<ReturnType<ReturnType<typeof employeeQuery>['executeTakeFirstOrThrow']>>;

function toEmployee(r: EmployeeJoinRow): hr.Employee {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    title: r.title,
    department: { id: r.department_id, name: r.department_name },
    location: r.location,
    timezone: r.timezone,
    workingHours: { days: r.work_days, start: r.work_start, end: r.work_end },
    manager: r.manager_id && r.manager_name && r.manager_email ? { id: r.manager_id, name: r.manager_name, email: r.manager_email } : null,
    hrPartner: { id: r.partner_id, name: r.partner_name, email: r.partner_email, timezone: r.partner_timezone },
  };
}

export async function listEmployees(ctx: HrContext, filter: EmployeeFilter): Promise<{ items: hr.Employee[]; nextOffset: number | null }> {
  let q = employeeQuery(ctx);
  if (filter.departmentId) q = q.where('e.department_id', '=', filter.departmentId);
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('e.name', 'ilike', pattern), eb('e.email', 'ilike', pattern)]));
  }
  const rows = await q.orderBy('e.id').limit(filter.limit + 1).offset(filter.offset).execute();
  return paged(rows.map(toEmployee), filter);
}

export async function getEmployee(ctx: HrContext, id: string): Promise<hr.Employee> {
  const row = await employeeQuery(ctx).where('e.id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`No employee ${id}`);
  return toEmployee(row);
}

function partnerQuery(ctx: HrContext) {
  return ctx.db
    .selectFrom('hr_partners as p')
    .leftJoin('hr_leads as l', 'l.id', 'p.lead_id')
    .select(['p.id', 'p.name', 'p.email', 'p.timezone', 'p.work_days', 'p.work_start', 'p.work_end', 'l.id as lead_id', 'l.name as lead_name', 'l.email as lead_email']);
}

type PartnerJoinRow = Awaited<ReturnType<ReturnType<typeof partnerQuery>['executeTakeFirstOrThrow']>>;

function toHrPartner(p: PartnerJoinRow): hr.HrPartner {
  return {
    id: p.id,
    name: p.name,
    email: p.email,
    timezone: p.timezone,
    workingHours: { days: p.work_days, start: p.work_start, end: p.work_end },
    lead: p.lead_id && p.lead_name && p.lead_email ? { id: p.lead_id, name: p.lead_name, email: p.lead_email } : null,
  };
}

export async function listHrPartners(ctx: HrContext, page: PageQuery): Promise<{ items: hr.HrPartner[]; nextOffset: number | null }> {
  const rows = await partnerQuery(ctx).orderBy('p.id').limit(page.limit + 1).offset(page.offset).execute();
  return paged(rows.map(toHrPartner), page);
}

export async function getHrPartner(ctx: HrContext, id: string): Promise<hr.HrPartner> {
  const row = await partnerQuery(ctx).where('p.id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`No HR partner ${id}`);
  return toHrPartner(row);
}
