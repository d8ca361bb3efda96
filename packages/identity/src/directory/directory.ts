import { sql } from 'kysely';
import type { DemoOrg } from '@ems/demo-org';
import { arrayParam, groupCommit, systemClock } from '@ems/platform';
import type { IdentityDb } from '../db/identity.db.ts';
import { applyPeople } from './apply-people.ts';

/**
 * The directory as authorization sees it: who a person is, whom they manage, whom they partner as HR,
 * and which administrative roles they hold. Loaded from the organisation (the demo seed today; an HR
 * import or SCIM later), read by every process to turn a verified token into a principal.
 */
export interface DirectoryPerson {
  id: string;
  kind: 'employee' | 'hr_partner' | 'hr_lead';
  name: string;
  email: string;
  adminRoles: string[];
  /** Direct reports' ids. */
  reports: string[];
  /** Ids of the employees whose HR partner this person is. */
  assigned: string[];
}

/** The administrative roles of the person aliased `p` in the query. */
const adminRolesOfP = () => sql<string[]>`coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM identity.role_assignments r WHERE r.person_id = p.id), '{}')`.as('admin_roles');

/** Finds a person by directory id or by email (case-insensitive), with everything their roles follow from. */
export async function findPerson(db: IdentityDb, key: string): Promise<DirectoryPerson | undefined> {
  const row = await db
    .selectFrom('people as p')
    .select([
      'p.id',
      'p.kind',
      'p.name',
      'p.email',
      adminRolesOfP(),
      sql<string[]>`coalesce((SELECT array_agg(e.id ORDER BY e.id) FROM identity.people e WHERE e.manager_id = p.id), '{}')`.as('reports'),
      sql<string[]>`coalesce((SELECT array_agg(e.id ORDER BY e.id) FROM identity.people e WHERE e.hr_partner_id = p.id), '{}')`.as('assigned'),
    ])
    .where((eb) => eb.or([eb('p.id', '=', key), eb(sql`lower(p.email)`, '=', key.toLowerCase())]))
    // A deactivated person (left the organisation, or deprovisioned by SCIM) is nobody to authorization.
    .where('p.active', '=', true)
    .orderBy(sql`p.id = ${key}`, 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, kind: row.kind, name: row.name, email: row.email, adminRoles: row.admin_roles, reports: row.reports, assigned: row.assigned };
}

/** Whether the directory holds this id or email only as a deactivated person (no active one answers to it). */
export async function isDeactivated(db: IdentityDb, key: string): Promise<boolean> {
  const row = await db
    .selectFrom('people as p')
    .select('p.id')
    .where((eb) => eb.or([eb('p.id', '=', key), eb(sql`lower(p.email)`, '=', key.toLowerCase())]))
    .where('p.active', '=', false)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Loads the organisation's people and role assignments through applyPeople (origin 'seed'), the directory's one
 * writer: the same upsert, checks and derived kinds as an import. A person already there keeps what the seed
 * does not own: deactivated stays deactivated, and roles given since are kept (the seed adds its roles, never
 * takes one away); a re-seed that changes nothing writes nothing. The seed loads every service directly: it
 * publishes nothing.
 */
export async function seedDirectory(db: IdentityDb, org: DemoOrg): Promise<void> {
  const departments = new Map(org.departments.map((d) => [d.id, d.name]));
  const leadZone = org.hrPartners.find((p) => p.leadId === org.hrLead.id)?.timezone ?? 'UTC';
  const seeded = new Map<string, AdminRole[]>();
  for (const a of org.roleAssignments) seeded.set(a.personId, [...(seeded.get(a.personId) ?? []), a.role]);
  const person = (p: Omit<SeedPerson, 'roles' | 'active'>): SeedPerson => ({ ...p, roles: seeded.get(p.id) ?? [], active: true });
  const people = [
    ...org.employees.map((e) =>
      person({ id: e.id, name: e.name, email: e.email, title: e.title, managerId: e.managerId, hrPartnerId: e.hrPartnerId, department: departments.get(e.departmentId) ?? null, location: e.location, timezone: e.timezone, workingHours: e.workingHours }),
    ),
    ...org.hrPartners.map((p) =>
      person({ id: p.id, name: p.name, email: p.email, title: 'HR Partner', managerId: null, hrPartnerId: null, department: null, location: null, timezone: p.timezone, workingHours: p.workingHours }),
    ),
    person({
      id: org.hrLead.id, name: org.hrLead.name, email: org.hrLead.email, title: org.hrLead.title, managerId: null, hrPartnerId: null,
      department: null, location: null, timezone: leadZone, workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    }),
  ];
  await db.transaction().execute(async (tx) => {
    const kept = await tx
      .selectFrom('people as p')
      .select(['p.id', 'p.active', adminRolesOfP()])
      .where('p.id', 'in', people.map((p) => p.id))
      .execute();
    const before = new Map(kept.map((k) => [k.id, k]));
    const merged = people.map((p) => {
      const k = before.get(p.id);
      return k ? { ...p, active: k.active, roles: [...new Set([...p.roles, ...(k.admin_roles as AdminRole[])])] } : p;
    });
    await applyPeople(tx, { clock: systemClock }, merged, 'seed');
  });
}

type SeedPerson = Parameters<typeof applyPeople>[2][number];
type AdminRole = SeedPerson['roles'][number];

/** Everyone who may sign in with the development provider, for its sign-in page. */
export async function listPeople(db: IdentityDb): Promise<Array<{ id: string; kind: string; name: string; email: string; title: string | null; adminRoles: string[]; managesSomeone: boolean }>> {
  const rows = await db
    .selectFrom('people as p')
    .select([
      'p.id',
      'p.kind',
      'p.name',
      'p.email',
      'p.title',
      adminRolesOfP(),
      sql<boolean>`EXISTS (SELECT 1 FROM identity.people e WHERE e.manager_id = p.id AND e.active)`.as('manages'),
    ])
    .where('p.active', '=', true)
    .orderBy('p.kind')
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, name: r.name, email: r.email, title: r.title, adminRoles: r.admin_roles, managesSomeone: r.manages }));
}

export interface Contact {
  id: string;
  name: string;
  email: string;
}

/** Who is around an employee, as the directory has them: the people EMS may email about their case. */
export interface EmployeeRelations {
  employee: Contact;
  manager: Contact | null;
  hrPartner: Contact | null;
  /** People holding the HR lead role (escalations go to one of them). */
  hrLeads: Contact[];
}

export async function relationsOf(db: IdentityDb, employeeId: string): Promise<EmployeeRelations | undefined> {
  return (await relationsOfMany(db, [employeeId])).get(employeeId);
}

/** Most relations read by one statement (relationsTogether). */
const RELATIONS_TOGETHER = 64;

/**
 * Relations asked for at the same moment, read by one statement (platform's groupCommit): when nothing else is being
 * read one goes at once, alone; while it is, the next ones wait and go together. In a burst each batch of HR's
 * invites asked for its employee's relations in a statement — and a transaction — of its own.
 */
export function relationsTogether(db: IdentityDb): (employeeId: string) => Promise<EmployeeRelations | undefined> {
  return groupCommit<string, EmployeeRelations | undefined>({
    max: RELATIONS_TOGETHER,
    atOnce: 1,
    together: async (ids) => {
      const found = await relationsOfMany(db, ids);
      return ids.map((id) => ({ ok: true as const, value: found.get(id) }));
    },
    alone: (id) => relationsOf(db, id),
  });
}

/** Employees' relations by id (one statement text, whatever their number); an id that is not an employee's is absent. */
async function relationsOfMany(db: IdentityDb, employeeIds: readonly string[]): Promise<Map<string, EmployeeRelations>> {
  const rows = await db
    .selectFrom('people as e')
    .leftJoin('people as m', 'm.id', 'e.manager_id')
    .leftJoin('people as p', 'p.id', 'e.hr_partner_id')
    .select([
      'e.id as e_id',
      'e.name as e_name',
      'e.email as e_email',
      'm.id as m_id',
      'm.name as m_name',
      'm.email as m_email',
      'p.id as p_id',
      'p.name as p_name',
      'p.email as p_email',
      sql<Contact[]>`coalesce((SELECT json_agg(json_build_object('id', l.id, 'name', l.name, 'email', l.email) ORDER BY l.id) FROM identity.role_assignments r JOIN identity.people l ON l.id = r.person_id WHERE r.role = 'hr_lead'), '[]'::json)`.as('leads'),
    ])
    .where(sql<boolean>`e.id = any(${arrayParam([...new Set(employeeIds)], 'text')})`)
    .where('e.kind', '=', 'employee')
    .execute();
  const contact = (id: string | null, name: string | null, email: string | null): Contact | null => (id && name && email ? { id, name, email } : null);
  return new Map(
    rows.map((r) => [
      r.e_id,
      {
        employee: { id: r.e_id, name: r.e_name, email: r.e_email },
        manager: contact(r.m_id, r.m_name, r.m_email),
        hrPartner: contact(r.p_id, r.p_name, r.p_email),
        hrLeads: r.leads,
      },
    ]),
  );
}

/** Active people holding an administrative role (e.g. access_admin: whom drift alerts go to), by id. */
export async function peopleWithRole(db: IdentityDb, role: 'hr_lead' | 'access_admin' | 'operator'): Promise<Contact[]> {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('people as p', 'p.id', 'r.person_id')
    .select(['p.id', 'p.name', 'p.email'])
    .where('r.role', '=', role)
    .where('p.active', '=', true)
    .orderBy('p.id')
    .execute();
}
