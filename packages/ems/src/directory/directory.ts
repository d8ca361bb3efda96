import type { Kysely } from 'kysely';
import type { DemoOrg } from '@ems/demo-org';
import type { EmsDb } from '../db/types.ts';

/**
 * EMS's roster: who may resign, with the manager and HR partner at that moment. EMS keeps its own
 * copy (loaded from the same HR export as every service's part of the organisation), so intake needs
 * no other service — in choreography EMS makes no call to Notification, HR or Access at all.
 */
export interface DirectoryEntry {
  id: string;
  name: string;
  email: string;
  timezone: string;
  /** ISO weekdays the employee works (1 = Monday … 7 = Sunday), in their own zone. */
  workingDays: number[];
  manager: { id: string; name: string; email: string } | null;
  /** Null when the directory names none (then the person cannot resign through EMS: nobody would interview them). */
  hrPartnerId: string | null;
  /** False once the directory deactivated the person (kept, never deleted). */
  active: boolean;
  /** The department's name, from the HR export (null when it named none). */
  department: string | null;
}

export interface Directory {
  /** `within`: the transaction to read in (opening a case reads its employee in the transaction that opens it). */
  findEmployee(employeeId: string, within?: Kysely<EmsDb>): Promise<DirectoryEntry | undefined>;
}

export function createDirectory(db: Kysely<EmsDb>): Directory & { seed(org: DemoOrg): Promise<void> } {
  return {
    async findEmployee(employeeId, within = db) {
      const row = await within
        .selectFrom('employees as e')
        .leftJoin('employees as m', 'm.id', 'e.manager_id')
        .select(['e.id', 'e.name', 'e.email', 'e.timezone', 'e.work_days', 'e.hr_partner_id', 'e.department', 'e.active', 'm.id as manager_id', 'm.name as manager_name', 'm.email as manager_email'])
        .where('e.id', '=', employeeId)
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        email: row.email,
        timezone: row.timezone,
        workingDays: row.work_days,
        hrPartnerId: row.hr_partner_id,
        active: row.active,
        department: row.department,
        manager: row.manager_id && row.manager_name && row.manager_email ? { id: row.manager_id, name: row.manager_name, email: row.manager_email } : null,
      };
    },
    /** Idempotent: upserts everyone (managers may come after their reports; the FK is deferred). */
    async seed(org) {
      if (!org.employees.length) return;
      const departments = new Map(org.departments.map((d) => [d.id, d.name]));
      // At most 1,000 people per statement: 8 parameters a person, and a statement takes at most 65,535
      // (10,000 people in one failed: "bind message has 18473 parameter formats but 0 parameters").
      const rows = org.employees;
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 1000) await trx
          .insertInto('employees')
          .values(rows.slice(i, i + 1000).map((e) => ({ id: e.id, name: e.name, email: e.email, timezone: e.timezone, work_days: e.workingHours.days, manager_id: e.managerId, hr_partner_id: e.hrPartnerId, department: departments.get(e.departmentId) ?? null })))
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              email: eb.ref('excluded.email'),
              timezone: eb.ref('excluded.timezone'),
              work_days: eb.ref('excluded.work_days'),
              department: eb.ref('excluded.department'),
              manager_id: eb.ref('excluded.manager_id'),
              hr_partner_id: eb.ref('excluded.hr_partner_id'),
              updated_at: new Date(),
            })),
          )
          .execute();
      });
    },
  };
}
