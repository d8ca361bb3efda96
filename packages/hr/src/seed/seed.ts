import { sql } from 'kysely';
import { IANAZone } from 'luxon';
import type { DemoOrg } from '@ems/demo-org';
import type { HrDb } from '../db/hr.db.ts';

const CHUNK = 500;

/**
 * Loads HR's part of the demo organisation: the HR lead, partners with their working hours, weekly
 * meetings and lead, departments and employees. Idempotent: a re-seed updates what changed, adds what
 * is new, and never touches an employee's status or any interview. A partner's weekly meetings
 * become exactly the seeded ones.
 */
export async function seedHr(db: HrDb, org: Pick<DemoOrg, 'hrLead' | 'hrPartners' | 'departments' | 'employees'>): Promise<void> {
  // Slot finding reasons in these zones; an unknown one would silently compute nonsense.
  for (const z of [...org.hrPartners.map((p) => p.timezone), ...org.employees.map((e) => e.timezone)]) {
    if (!IANAZone.isValidZone(z)) throw new Error(`unknown IANA time zone in the organisation data: ${z}`);
  }
  await db.transaction().execute(async (trx) => {
    // Two processes seeding at once take turns instead of interleaving the busy-block replacement.
    await sql`SELECT pg_advisory_xact_lock(hashtext('ems.seed.hr'))`.execute(trx);

    await trx
      .insertInto('hr_leads')
      .values({ id: org.hrLead.id, name: org.hrLead.name, email: org.hrLead.email })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), email: eb.ref('excluded.email') })))
      .execute();

    if (org.hrPartners.length > 0) {
      await trx
        .insertInto('hr_partners')
        .values(
          org.hrPartners.map((p) => ({
            id: p.id,
            name: p.name,
            email: p.email,
            timezone: p.timezone,
            work_days: p.workingHours.days,
            work_start: p.workingHours.start,
            work_end: p.workingHours.end,
            lead_id: p.leadId,
          })),
        )
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            email: eb.ref('excluded.email'),
            timezone: eb.ref('excluded.timezone'),
            work_days: eb.ref('excluded.work_days'),
            work_start: eb.ref('excluded.work_start'),
            work_end: eb.ref('excluded.work_end'),
            lead_id: eb.ref('excluded.lead_id'),
            updated_at: new Date(),
          })),
        )
        .execute();

      const partnerIds = org.hrPartners.map((p) => p.id);
      const busy = org.hrPartners.flatMap((p) =>
        p.busy.map((b) => ({ hr_partner_id: p.id, weekday: b.weekday, start_time: b.start, end_time: b.end, title: b.title })),
      );
      await trx.deleteFrom('recurring_busy').where('hr_partner_id', 'in', partnerIds).execute();
      if (busy.length > 0) {
        await trx
          .insertInto('recurring_busy')
          .values(busy)
          .onConflict((oc) =>
            oc.columns(['hr_partner_id', 'weekday', 'start_time']).doUpdateSet((eb) => ({ end_time: eb.ref('excluded.end_time'), title: eb.ref('excluded.title') })),
          )
          .execute();
      }
    }

    if (org.departments.length > 0) {
      await trx
        .insertInto('departments')
        .values(org.departments.map((d) => ({ id: d.id, name: d.name, hr_partner_id: d.hrPartnerId })))
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), hr_partner_id: eb.ref('excluded.hr_partner_id') })))
        .execute();
    }

    // manager_id is a deferred foreign key: a report may be inserted before their manager.
    for (let i = 0; i < org.employees.length; i += CHUNK) {
      await trx
        .insertInto('employees')
        .values(
          org.employees.slice(i, i + CHUNK).map((e) => ({
            id: e.id,
            name: e.name,
            email: e.email,
            title: e.title,
            department_id: e.departmentId,
            manager_id: e.managerId,
            hr_partner_id: e.hrPartnerId,
            timezone: e.timezone,
            location: e.location,
            work_days: e.workingHours.days,
            work_start: e.workingHours.start,
            work_end: e.workingHours.end,
          })),
        )
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            email: eb.ref('excluded.email'),
            title: eb.ref('excluded.title'),
            department_id: eb.ref('excluded.department_id'),
            manager_id: eb.ref('excluded.manager_id'),
            hr_partner_id: eb.ref('excluded.hr_partner_id'),
            timezone: eb.ref('excluded.timezone'),
            location: eb.ref('excluded.location'),
            work_days: eb.ref('excluded.work_days'),
            work_start: eb.ref('excluded.work_start'),
            work_end: eb.ref('excluded.work_end'),
            updated_at: new Date(),
          })),
        )
        .execute();
    }
  });
}
