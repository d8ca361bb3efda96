import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '@ems/platform';
import { EventSources, EventTypes, type PersonChanged } from '@ems/contracts/events';
import { createEvent, type EventBus, type TraceContext } from '@ems/eventbus';
import type { z } from 'zod';
import type { IdentityDb, IdentityTx } from '../db/identity.db.ts';
import {
  followerOrder,
  planPeople,
  type AccountNames,
  type CurrentPerson,
  type DirectoryPerson,
  type DirectoryProblem,
  type PersonField,
  type PlannedChange,
} from './plan-people.ts';

export type { AccountNames, DirectoryPerson, DirectoryProblem, PersonField } from './plan-people.ts';

/**
 * The one use case that writes the directory (identity.people and the administrative roles): the CSV
 * import, the SCIM endpoint and the demo seed all call it, inside their own transaction.
 *
 *   lock the directory ─► read it ─► plan (validate the whole resulting organisation) ─► refused: throw, nothing written
 *                                                                    └─► upsert what changed (version + 1), roles, kinds
 *                                                                        └─► one personChanged per changed person, same transaction
 *
 * A person whose record is the same as before is left alone: no write, no version, no event (a re-import
 * is a no-op). Nobody is ever deleted; `deactivateMissing` (a full export) makes everyone left out inactive.
 */

/** Who writes: HR's CSV import, a SCIM client, or the demo seed. */
export type DirectoryOrigin = 'import' | 'scim' | 'seed';

export interface ApplyPeopleDeps {
  clock: Clock;
  /** Where personChanged is published, in the caller's transaction; absent → nothing is published (tests of the directory alone). */
  bus?: EventBus | undefined;
}

export interface ApplyPeopleOptions {
  /** A full export: every active person not in `people` becomes inactive. */
  deactivateMissing?: boolean | undefined;
  /** Work out and answer what would change; write and publish nothing. */
  dryRun?: boolean | undefined;
  /** SCIM's userName / externalId per person id (a new person's userName is their email unless given). */
  accounts?: Readonly<Record<string, AccountNames>> | undefined;
  /** Continues the caller's trace; the events of one call share one correlation id. */
  trace?: TraceContext | undefined;
}

export interface ApplyPeopleResult {
  created: string[];
  /** Changed, other than by being left out of a full export. */
  updated: string[];
  unchanged: string[];
  /** Left out of a full export (deactivateMissing) and active until now. */
  deactivated: string[];
  /** The version of every person created, updated or deactivated (as it is after, or would be after a dry run). */
  versions: Record<string, number>;
  /** The fields that changed, per updated or deactivated person. */
  changes: Record<string, PersonField[]>;
}

/** The batch would make an organisation the directory cannot hold: every problem, on the person and field that has it. */
export class DirectoryRefused extends Error {
  readonly problems: DirectoryProblem[];
  constructor(problems: DirectoryProblem[]) {
    super(`the directory refused the change: ${problems.map((p) => `${p.personId}.${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'DirectoryRefused';
    this.problems = problems;
  }
}

const CHUNK = 500;

export async function applyPeople(
  trx: IdentityTx,
  deps: ApplyPeopleDeps,
  people: readonly DirectoryPerson[],
  origin: DirectoryOrigin,
  options: ApplyPeopleOptions = {},
): Promise<ApplyPeopleResult> {
  // One writer of the directory at a time: the checks (cycles, unique names) hold for what is committed.
  await sql`SELECT pg_advisory_xact_lock(hashtext('identity.directory'))`.execute(trx);
  const current = await readCurrent(trx);
  const outcome = planPeople(current, people, { deactivateMissing: options.deactivateMissing, accounts: options.accounts });
  if (!outcome.ok) throw new DirectoryRefused(outcome.problems);
  const { plan } = outcome;

  const deactivated = new Set(plan.deactivated);
  const byId = (ids: string[]) => ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const result: ApplyPeopleResult = {
    created: byId(plan.created.map((c) => c.person.id)),
    updated: byId(plan.updated.filter((c) => !deactivated.has(c.person.id)).map((c) => c.person.id)),
    unchanged: byId([...plan.unchanged]),
    deactivated: byId([...plan.deactivated]),
    versions: Object.fromEntries([...plan.created, ...plan.updated].map((c) => [c.person.id, c.version])),
    changes: Object.fromEntries(plan.updated.map((c) => [c.person.id, c.fields])),
  };
  const changes = [...plan.created, ...plan.updated];
  if (options.dryRun || changes.length === 0) return result;

  const now = deps.clock.now();
  await writeChanges(trx, changes, now);

  if (deps.bus) {
    const correlationId = options.trace?.correlationId ?? `directory-${origin}-${randomUUID()}`;
    await deps.bus.publish(
      trx,
      followerOrder(changes).map((c) =>
        createEvent<z.infer<typeof PersonChanged>>({
          type: EventTypes.personChanged,
          source: EventSources.identity,
          subject: c.person.id,
          correlationId,
          traceparent: options.trace?.traceparent,
          time: now,
          data: {
            person: c.person,
            version: c.version,
            previous: c.previous ? { managerId: c.previous.person.managerId, hrPartnerId: c.previous.person.hrPartnerId, active: c.previous.person.active } : null,
            origin,
            changedAt: now.toISOString(),
          },
        }),
      ),
    );
  }
  return result;
}

async function writeChanges(trx: IdentityTx, changes: readonly PlannedChange[], now: Date): Promise<void> {
  const rows = changes.map((c) => ({
    id: c.person.id,
    // Derived below, once every row is in.
    kind: 'employee' as const,
    name: c.person.name,
    email: c.person.email,
    title: c.person.title,
    manager_id: c.person.managerId,
    hr_partner_id: c.person.hrPartnerId,
    department: c.person.department,
    location: c.person.location,
    timezone: c.person.timezone,
    work_days: c.person.workingHours.days,
    work_start: c.person.workingHours.start,
    work_end: c.person.workingHours.end,
    active: c.person.active,
    version: c.version,
    user_name: c.userName,
    external_id: c.externalId,
    updated_at: now,
  }));
  // Unique names may move between people of one batch (two people swap emails): whoever changes one first lets
  // go of the old, so the upsert never meets a name it is itself about to free.
  const renamed = changes.filter((c) => c.fields.some((f) => f === 'email' || f === 'userName' || f === 'externalId')).map((c) => c.person.id);
  if (renamed.length) {
    await trx
      .updateTable('people')
      .set({ email: sql`'moving-' || id || '@invalid'`, user_name: sql`'moving-' || id || '@invalid'`, external_id: null })
      .where('id', 'in', renamed)
      .execute();
  }
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx
      .insertInto('people')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          email: eb.ref('excluded.email'),
          title: eb.ref('excluded.title'),
          manager_id: eb.ref('excluded.manager_id'),
          hr_partner_id: eb.ref('excluded.hr_partner_id'),
          department: eb.ref('excluded.department'),
          location: eb.ref('excluded.location'),
          timezone: eb.ref('excluded.timezone'),
          work_days: eb.ref('excluded.work_days'),
          work_start: eb.ref('excluded.work_start'),
          work_end: eb.ref('excluded.work_end'),
          active: eb.ref('excluded.active'),
          version: eb.ref('excluded.version'),
          user_name: eb.ref('excluded.user_name'),
          external_id: eb.ref('excluded.external_id'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  // Administrative roles follow `roles` exactly, for the people whose roles changed (or who are new).
  // A new person has none to take away: only their roles are inserted.
  const withRoles = changes.filter((c) => c.previous === null || c.fields.includes('roles'));
  const rolesChanged = withRoles.filter((c) => c.previous !== null).map((c) => c.person.id);
  for (let i = 0; i < rolesChanged.length; i += CHUNK) {
    await trx.deleteFrom('role_assignments').where('person_id', 'in', rolesChanged.slice(i, i + CHUNK)).execute();
  }
  const assignments = withRoles.flatMap((c) => c.person.roles.map((role) => ({ person_id: c.person.id, role })));
  for (let i = 0; i < assignments.length; i += CHUNK) {
    await trx.insertInto('role_assignments').values(assignments.slice(i, i + CHUNK)).execute();
  }

  // Kind is derived: anyone named as an HR partner is one; else the HR lead role makes an HR lead; else an employee.
  // Only the people changed and the HR partners they name or named can have another kind now: those are worked
  // out (the whole directory, every write, made one SCIM change cost seconds at 50,000 people).
  const concerned = [
    ...new Set(changes.flatMap((c) => [c.person.id, c.person.hrPartnerId, c.previous?.person.hrPartnerId ?? null]).filter((x): x is string => x !== null)),
  ];
  await sql`
    UPDATE identity.people p SET kind = k.kind
    FROM (
      SELECT q.id, CASE
        WHEN EXISTS (SELECT 1 FROM identity.people e WHERE e.hr_partner_id = q.id) THEN 'hr_partner'
        WHEN EXISTS (SELECT 1 FROM identity.role_assignments r WHERE r.person_id = q.id AND r.role = 'hr_lead') THEN 'hr_lead'
        ELSE 'employee' END AS kind
      FROM identity.people q
      WHERE q.id = ANY(${concerned}::text[])
    ) k
    WHERE k.id = p.id AND p.kind <> k.kind`.execute(trx);
}

const personColumns = [
  'p.id',
  'p.name',
  'p.email',
  'p.title',
  'p.department',
  'p.location',
  'p.timezone',
  'p.work_days',
  'p.work_start',
  'p.work_end',
  'p.manager_id',
  'p.hr_partner_id',
  'p.active',
  'p.version',
  'p.user_name',
  'p.external_id',
  'p.created_at',
  'p.updated_at',
] as const;

const rolesOfP = () => sql<Array<'hr_lead' | 'access_admin' | 'operator'>>`coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM identity.role_assignments r WHERE r.person_id = p.id), '{}')`.as('roles');

function peopleQuery(db: IdentityDb | IdentityTx) {
  return db.selectFrom('people as p').select([...personColumns, rolesOfP()]);
}

type PersonRow = Awaited<ReturnType<ReturnType<typeof peopleQuery>['executeTakeFirstOrThrow']>>;

function toPerson(r: PersonRow): DirectoryPerson {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    title: r.title,
    department: r.department,
    location: r.location,
    timezone: r.timezone,
    workingHours: { days: r.work_days.map(Number), start: r.work_start, end: r.work_end },
    managerId: r.manager_id,
    hrPartnerId: r.hr_partner_id,
    roles: r.roles,
    active: r.active,
  };
}

async function readCurrent(trx: IdentityTx): Promise<Map<string, CurrentPerson>> {
  const rows = await peopleQuery(trx).execute();
  return new Map(rows.map((r) => [r.id, { person: toPerson(r), version: r.version, userName: r.user_name, externalId: r.external_id }]));
}

/** One person of the directory with what SCIM needs besides the record. */
export interface DirectoryEntry {
  person: DirectoryPerson;
  version: number;
  userName: string;
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const toEntry = (r: PersonRow): DirectoryEntry => ({
  person: toPerson(r),
  version: r.version,
  userName: r.user_name,
  externalId: r.external_id,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

/** A person of the directory by id, active or not. */
export async function getDirectoryPerson(db: IdentityDb | IdentityTx, id: string): Promise<DirectoryEntry | undefined> {
  const row = await peopleQuery(db).where('p.id', '=', id).executeTakeFirst();
  return row ? toEntry(row) : undefined;
}

/** What listDirectoryPeople may filter on; every given criterion must hold (userName and email case-insensitively). */
export interface DirectoryFilter {
  id?: string | undefined;
  userName?: string | undefined;
  email?: string | undefined;
  externalId?: string | undefined;
  active?: boolean | undefined;
  managerId?: string | undefined;
}

/** A page of the directory, ordered by id. startIndex is 1-based (SCIM's). */
export async function listDirectoryPeople(
  db: IdentityDb | IdentityTx,
  query: { filter?: DirectoryFilter | undefined; startIndex: number; count: number },
): Promise<{ total: number; items: DirectoryEntry[] }> {
  const f = query.filter ?? {};
  const filtered = <Q extends ReturnType<typeof peopleQuery>>(q: Q): Q => {
    let out = q;
    if (f.id !== undefined) out = out.where('p.id', '=', f.id) as Q;
    if (f.userName !== undefined) out = out.where(sql`lower(p.user_name)`, '=', f.userName.toLowerCase()) as Q;
    if (f.email !== undefined) out = out.where(sql`lower(p.email)`, '=', f.email.toLowerCase()) as Q;
    if (f.externalId !== undefined) out = out.where('p.external_id', '=', f.externalId) as Q;
    if (f.active !== undefined) out = out.where('p.active', '=', f.active) as Q;
    if (f.managerId !== undefined) out = out.where('p.manager_id', '=', f.managerId) as Q;
    return out;
  };
  const base = filtered(peopleQuery(db));
  const [{ total }] = [
    await db
      .selectFrom(base.as('x'))
      .select(sql<number>`count(*)::int`.as('total'))
      .executeTakeFirstOrThrow(),
  ];
  const count = Math.max(0, Math.floor(query.count));
  const rows = count === 0 ? [] : await base.orderBy('p.id').offset(Math.max(0, Math.floor(query.startIndex) - 1)).limit(count).execute();
  return { total, items: rows.map(toEntry) };
}
