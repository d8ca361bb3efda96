import { createHash } from 'node:crypto';
import { ADMIN_ROLES, type AdminRole } from '@ems/contracts/policy';
import type { IdentityDb, IdentityTx } from '../db/identity.db.ts';
import { applyPeople, DirectoryRefused, getDirectoryPerson } from '../directory/apply-people.ts';
import type { Filter } from './filter.ts';
import { checkFilter, matches } from './evaluate.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import { RESOURCE_TYPES, SCIM } from './schemas.ts';
import { ScimError, scimNotFound } from './scim-error.ts';
import { isDirectoryId, member, type ScimJson } from './user.ts';
import { checkIfMatch, lockDirectory, type ScimDeps } from './users.ts';

/**
 * The Groups endpoint: EMS's three administrative roles (hr_lead, access_admin, operator), each a Group whose
 * members are the people holding it. The groups are fixed — never created or deleted — and their members are
 * written as the people's `roles` through applyPeople (one personChanged per person whose roles changed).
 * Three groups: filters are evaluated in memory.
 */

export const GROUP_TYPE = RESOURCE_TYPES.find((t) => t.id === 'Group')!;

const isRole = (id: string): id is AdminRole => (ADMIN_ROLES as readonly string[]).includes(id);

interface Member {
  id: string;
  name: string;
}

async function membersOf(db: IdentityDb | IdentityTx): Promise<Map<AdminRole, Member[]>> {
  const rows = await db
    .selectFrom('role_assignments as r')
    .innerJoin('people as p', 'p.id', 'r.person_id')
    .select(['r.role', 'p.id', 'p.name'])
    .orderBy('r.role')
    .orderBy('p.id')
    .execute();
  const out = new Map<AdminRole, Member[]>(ADMIN_ROLES.map((r) => [r, []]));
  for (const r of rows) out.get(r.role)!.push({ id: r.id, name: r.name });
  return out;
}

const versionOf = (members: readonly Member[]) => `W/"${createHash('sha256').update(members.map((m) => m.id).sort().join('\n')).digest('hex').slice(0, 16)}"`;

function toScimGroup(d: ScimDeps, role: AdminRole, members: readonly Member[]): { resource: ScimJson; etag: string } {
  const etag = versionOf(members);
  return {
    etag,
    resource: {
      schemas: [SCIM.group],
      id: role,
      displayName: role,
      members: members.map((m) => ({ value: m.id, display: m.name, type: 'User', $ref: `${d.base}/Users/${encodeURIComponent(m.id)}` })),
      meta: { resourceType: 'Group', location: `${d.base}/Groups/${role}`, version: etag },
    },
  };
}

export async function getGroup(d: ScimDeps, id: string): Promise<{ resource: ScimJson; etag: string }> {
  if (!isRole(id)) throw scimNotFound(`Group ${id}`);
  return toScimGroup(d, id, (await membersOf(d.db)).get(id)!);
}

export async function listGroups(d: ScimDeps, q: { filter: Filter | undefined; startIndex: number; count: number }): Promise<{ total: number; resources: ScimJson[] }> {
  const filter = q.filter ? checkFilter(GROUP_TYPE, q.filter) : undefined;
  const all = await membersOf(d.db);
  const groups = ADMIN_ROLES.map((r) => toScimGroup(d, r, all.get(r)!).resource).filter((g) => !filter || matches(GROUP_TYPE, filter, g));
  return { total: groups.length, resources: groups.slice(q.startIndex - 1, q.startIndex - 1 + q.count) };
}

/** Sets a group's members to `wanted` (ids): the people who gain or lose the role are written through applyPeople. */
async function setMembers(d: ScimDeps, trx: IdentityTx, role: AdminRole, current: readonly Member[], wanted: readonly string[]): Promise<void> {
  const have = new Set(current.map((m) => m.id));
  const want = new Set(wanted);
  const changed = [...[...want].filter((id) => !have.has(id)), ...[...have].filter((id) => !want.has(id))];
  if (!changed.length) return;
  const people = [];
  for (const id of changed) {
    const e = isDirectoryId(id) ? await getDirectoryPerson(trx, id) : undefined;
    if (!e) throw new ScimError(400, `members: no User ${JSON.stringify(id.slice(0, 100))}`, 'invalidValue');
    const roles = want.has(id) ? [...new Set([...e.person.roles, role])].sort() : e.person.roles.filter((r) => r !== role);
    people.push({ ...e.person, roles });
  }
  try {
    await applyPeople(trx, { clock: d.clock, bus: d.bus }, people, 'scim');
  } catch (err) {
    if (err instanceof DirectoryRefused) throw new ScimError(400, err.message, 'invalidValue');
    throw err;
  }
}

function memberIds(members: unknown): string[] {
  if (members === undefined || members === null) return [];
  if (!Array.isArray(members)) throw new ScimError(400, 'members must be an array', 'invalidValue');
  if (members.length > 10_000) throw new ScimError(400, 'more than 10000 members', 'tooMany');
  return members.map((m, i) => {
    const v = member(m, 'value');
    if (typeof v !== 'string' || v === '') throw new ScimError(400, `members[${i}].value must be a User's id`, 'invalidValue');
    return v;
  });
}

async function changeGroup(d: ScimDeps, id: string, ifMatch: string | undefined, next: (current: ScimJson) => ScimJson): Promise<{ resource: ScimJson; etag: string }> {
  if (!isRole(id)) throw scimNotFound(`Group ${id}`);
  await d.db.transaction().execute(async (trx) => {
    await lockDirectory(trx);
    const current = (await membersOf(trx)).get(id)!;
    const before = toScimGroup(d, id, current);
    checkIfMatch(ifMatch, before.etag);
    const after = next(before.resource);
    const name = member(after, 'displayName');
    if (name !== undefined && name !== id) throw new ScimError(400, `displayName is the role (${id}) and cannot change`, 'mutability');
    await setMembers(d, trx, id, current, memberIds(member(after, 'members')));
  });
  return getGroup(d, id);
}

export const patchGroup = (d: ScimDeps, id: string, operations: readonly PatchOperation[], ifMatch: string | undefined) =>
  changeGroup(d, id, ifMatch, (current) => applyPatch(GROUP_TYPE, current, operations));

/** PUT: the members given are the members (displayName, if given, must be the role's). */
export const replaceGroup = (d: ScimDeps, id: string, body: unknown, ifMatch: string | undefined) =>
  changeGroup(d, id, ifMatch, () => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'the body must be a JSON object (a Group)', 'invalidSyntax');
    return { displayName: member(body, 'displayName') ?? id, members: member(body, 'members') ?? [] };
  });
