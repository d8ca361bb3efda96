import { sql } from 'kysely';
import type { z } from 'zod';
import { EventTypes, PersonChanged, type DirectoryPerson } from '@ems/contracts/events';
import type { Subscription } from '@ems/eventbus';
import type { HrTx } from '../db/hr.db.ts';
import type { HrContext } from '../hr.context.ts';

export const UPDATE_DIRECTORY_SUBSCRIBER = 'hr.update-directory-when-person-changed';

type Person = z.infer<typeof DirectoryPerson>;

/** Where a person without a department goes (HR files every employee under one). */
export const NO_DEPARTMENT = 'No department';

/**
 * HR's copy of the directory follows Identity's, in both modes: each personChanged is a full snapshot,
 * applied only over an older one (a redelivery or a late, older event changes nothing).
 *
 *   personChanged(person, version) ──▶ ┌ one transaction, the person locked ─────────────────────────┐
 *                                      │ version ≤ the one held? → done                              │
 *                                      │ keep the snapshot (directory_people)                        │
 *                                      │ active with the hr_lead role → hr_leads; else out of them   │
 *                                      │ named as anyone's HR partner → hr_partners (calendar kept)  │
 *                                      │ has an HR partner → employees (department found by name or  │
 *                                      │   made), manager when HR has them                           │
 *                                      │ people waiting on this one (their HR partner or manager     │
 *                                      │   came later) → completed now                               │
 *                                      │ HR partner changed → open cases' follow-ups go to the new one│
 *                                      └─────────────────────────────────────────────────────────────┘
 *
 * Order does not matter: an employee heard of before their HR partner waits in directory_people and is
 * filed when the partner's snapshot arrives. HR never deletes anyone: inactive → status 'left'.
 */
export function updateDirectoryWhenPersonChanged(ctx: Pick<HrContext, 'db' | 'log'>): Subscription {
  return {
    name: UPDATE_DIRECTORY_SUBSCRIBER,
    types: [EventTypes.personChanged],
    async handle(event) {
      const data = PersonChanged.parse(event.data);
      const applied = await ctx.db.transaction().execute((trx) => applyPersonSnapshot(trx, data.person, data.version));
      if (applied) ctx.log.info({ personId: data.person.id, version: data.version, origin: data.origin }, 'directory: person updated in HR');
    },
  };
}

/** Applies one snapshot; false when HR already holds this version or a newer one. */
export async function applyPersonSnapshot(trx: HrTx, person: Person, version: number): Promise<boolean> {
  // One writer of HR's directory at a time: projections read other people's snapshots.
  await sql`SELECT pg_advisory_xact_lock(hashtext('hr.directory'))`.execute(trx);
  const held = await trx.selectFrom('directory_people').select(['version', 'person']).where('id', '=', person.id).executeTakeFirst();
  if (held && held.version >= version) return false;
  await trx
    .insertInto('directory_people')
    .values({ id: person.id, version, person: JSON.stringify(person) })
    .onConflict((oc) => oc.column('id').doUpdateSet({ version, person: JSON.stringify(person), updated_at: new Date() }))
    .execute();

  if (person.active && person.roles.includes('hr_lead')) {
    await trx
      .insertInto('hr_leads')
      .values({ id: person.id, name: person.name, email: person.email })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: person.name, email: person.email }))
      .execute();
  } else if (await trx.selectFrom('hr_leads').select('id').where('id', '=', person.id).executeTakeFirst()) {
    // No longer an HR lead (the role taken, or the person deactivated): escalations stop going to them. Their
    // HR partners go to the HR lead left when there is exactly one (as a new partner does), else to none.
    await trx
      .updateTable('hr_partners')
      .set({ lead_id: sql<string | null>`(SELECT min(id) FROM hr.hr_leads WHERE id <> ${person.id} HAVING count(*) = 1)`, updated_at: new Date() })
      .where('lead_id', '=', person.id)
      .execute();
    await trx.deleteFrom('hr_leads').where('id', '=', person.id).execute();
  }
  await projectPartner(trx, person.id);
  await projectEmployee(trx, person.id);

  // The people who waited on this one: filed under them as HR partner, or given them as manager (two
  // lookups, each on its own index: one per event, however large the directory).
  const unfiled = await trx
    .selectFrom('directory_people as d')
    .leftJoin('employees as e', 'e.id', 'd.id')
    .select('d.id')
    .where(sql<string>`d.person->>'hrPartnerId'`, '=', person.id)
    .where('e.id', 'is', null)
    .execute();
  // Their reports first (the snapshot index), then which of them HR holds without a manager (by primary key): one
  // join let the planner start from every employee without a manager, a scan that grew with the directory.
  const reports = (await trx.selectFrom('directory_people').select('id').where(sql<string>`person->>'managerId'`, '=', person.id).execute()).map((r) => r.id);
  const managerless = reports.length
    ? await trx.selectFrom('employees').select('id').where(sql<boolean>`id = ANY(${reports}::text[])`).where('manager_id', 'is', null).execute()
    : [];
  for (const w of [...unfiled, ...managerless]) await projectEmployee(trx, w.id);

  // Reminders and escalations of a case not yet decided go to the employee's HR partner of now.
  if (person.hrPartnerId && (await trx.selectFrom('hr_partners').select('id').where('id', '=', person.hrPartnerId).executeTakeFirst())) {
    await trx
      .updateTable('exit_cases')
      .set({ hr_partner_id: person.hrPartnerId, updated_at: new Date() })
      .where('employee_id', '=', person.id)
      .where('decision', 'is', null)
      .where('hr_partner_id', 'is distinct from', person.hrPartnerId)
      .execute();
  }
  return true;
}

async function snapshotOf(trx: HrTx, id: string): Promise<Person | undefined> {
  const row = await trx.selectFrom('directory_people').select('person').where('id', '=', id).executeTakeFirst();
  return row?.person;
}

/**
 * A person named as an HR partner (by a snapshot HR holds, or by HR's own rows) is in hr_partners, with
 * their directory record's name, email, zone and hours. Their calendar (weekly meetings) and HR lead are HR's
 * own and stay; a new partner escalates to the HR lead when HR has exactly one.
 */
async function projectPartner(trx: HrTx, id: string): Promise<void> {
  const p = await snapshotOf(trx, id);
  if (!p) return;
  // Anyone HR files under a partner names one in hr_partners already (a foreign key): these two suffice.
  const named =
    (await trx.selectFrom('hr_partners').select('id').where('id', '=', id).executeTakeFirst()) ??
    (await trx.selectFrom('directory_people').select('id').where(sql<string>`person->>'hrPartnerId'`, '=', id).limit(1).executeTakeFirst());
  if (!named) return;
  const hours = { timezone: p.timezone, work_days: p.workingHours.days, work_start: p.workingHours.start, work_end: p.workingHours.end };
  await trx
    .insertInto('hr_partners')
    .values({
      id,
      name: p.name,
      email: p.email,
      ...hours,
      lead_id: sql<string | null>`(SELECT min(id) FROM hr.hr_leads HAVING count(*) = 1)`,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: p.name, email: p.email, ...hours, updated_at: new Date() }))
    .execute();
}

/**
 * A person with an HR partner HR has is an employee of HR's: filed under their department (found by name,
 * or made, looked after by this person's HR partner), with their manager when HR has the manager as an
 * employee (else none yet: filled in when the manager arrives).
 */
async function projectEmployee(trx: HrTx, id: string): Promise<void> {
  const p = await snapshotOf(trx, id);
  if (!p) return;
  const existing = await trx.selectFrom('employees').select(['id', 'hr_partner_id']).where('id', '=', id).executeTakeFirst();
  let partnerId = p.hrPartnerId;
  if (partnerId !== null) {
    const partnerIn = () => trx.selectFrom('hr_partners').select('id').where('id', '=', partnerId!).executeTakeFirst();
    // A partner HR has is kept up to date by their own snapshots; one it lacks may be made from theirs now.
    if (!(await partnerIn())) {
      await projectPartner(trx, partnerId);
      if (!(await partnerIn())) partnerId = null;
    }
  }
  // Not filed yet and nobody to file them under: they wait (or are not HR's employee at all).
  if (partnerId === null && !existing) return;
  const hrPartnerId = partnerId ?? existing!.hr_partner_id;

  const departmentId = await departmentNamed(trx, p.department ?? NO_DEPARTMENT, hrPartnerId);
  const manager = p.managerId ? await trx.selectFrom('employees').select('id').where('id', '=', p.managerId).executeTakeFirst() : undefined;
  const row = {
    name: p.name,
    email: p.email,
    title: p.title ?? '',
    department_id: departmentId,
    manager_id: manager?.id ?? null,
    hr_partner_id: hrPartnerId,
    timezone: p.timezone,
    location: p.location ?? '',
    work_days: p.workingHours.days,
    work_start: p.workingHours.start,
    work_end: p.workingHours.end,
    status: p.active ? ('active' as const) : ('left' as const),
  };
  // Another row may hold this email until its own newer snapshot arrives: it gives the address up now.
  await trx.updateTable('employees').set({ email: sql`'moved-' || id || '@invalid'` }).where('email', '=', p.email).where('id', '<>', id).execute();
  await trx
    .insertInto('employees')
    .values({ id, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet({ ...row, updated_at: new Date() }))
    .execute();
}

/** The department of that name (case-insensitively), made when HR has none yet. */
async function departmentNamed(trx: HrTx, name: string, hrPartnerId: string): Promise<string> {
  const found = await trx.selectFrom('departments').select('id').where(sql`lower(name)`, '=', name.toLowerCase()).executeTakeFirst();
  if (found) return found.id;
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/(^-|-$)/g, '').slice(0, 40) || 'department';
  let id = base;
  for (let n = 2; await trx.selectFrom('departments').select('id').where('id', '=', id).executeTakeFirst(); n++) id = `${base}-${n}`;
  await trx.insertInto('departments').values({ id, name, hr_partner_id: hrPartnerId }).execute();
  return id;
}
