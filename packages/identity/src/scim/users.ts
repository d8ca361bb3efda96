import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { IdentityDb, IdentityTx } from '../db/identity.db.ts';
import { applyPeople, DirectoryRefused, getDirectoryPerson, type DirectoryEntry } from '../directory/apply-people.ts';
import type { Filter } from './filter.ts';
import { userFilterSql, userSortSql, USER_TYPE } from './filter-sql.ts';
import { applyPatch, type PatchOperation } from './patch.ts';
import { ScimError, scimNotFound } from './scim-error.ts';
import { fromScimUser, userEtag, isDirectoryId, member, toScimUser, type ScimBase, type ScimJson, type UserWrite } from './user.ts';

/**
 * The Users endpoint's use cases. Reads are one SQL query each (a filter is translated to SQL, filter-sql.ts);
 * every write goes through the directory's one writer, applyPeople, which publishes personChanged in the same
 * transaction. A write first locks the person's row, so If-Match is checked against the version it replaces.
 */

export interface ScimDeps extends ScimBase {
  db: IdentityDb;
  clock: Clock;
  bus: EventBus | undefined;
}

export interface UserQuery {
  filter: Filter | undefined;
  /** 1-based. */
  startIndex: number;
  count: number;
  sortBy: { uri?: string; attr: string; sub?: string } | undefined;
  descending: boolean;
}

/** The names of the people these entries refer to (their manager, their HR partner). */
async function namesFor(db: IdentityDb | IdentityTx, entries: readonly DirectoryEntry[]): Promise<(id: string) => string | undefined> {
  const ids = [...new Set(entries.flatMap((e) => [e.person.managerId, e.person.hrPartnerId]).filter((x): x is string => x !== null))];
  const rows = ids.length ? await db.selectFrom('people').select(['id', 'name']).where('id', 'in', ids).execute() : [];
  const names = new Map(rows.map((r) => [r.id, r.name]));
  return (id) => names.get(id);
}

export async function getUser(d: ScimDeps, id: string): Promise<{ resource: ScimJson; etag: string }> {
  const entry = isDirectoryId(id) ? await getDirectoryPerson(d.db, id) : undefined;
  if (!entry) throw scimNotFound(`User ${id}`);
  const names = await namesFor(d.db, [entry]);
  return { resource: toScimUser(entry, d, names), etag: userEtag(entry, names) };
}

export async function listUsers(d: ScimDeps, q: UserQuery): Promise<{ total: number; resources: ScimJson[] }> {
  const where = q.filter ? userFilterSql(q.filter) : sql`true`;
  const order = q.sortBy ? userSortSql(q.sortBy) : sql`p.id COLLATE "C"`;
  const direction = q.descending ? sql`DESC NULLS LAST` : sql`ASC NULLS LAST`;
  const total = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM identity.people p WHERE ${where}`.execute(d.db)).rows[0]!.n;
  if (q.count === 0 || q.startIndex > total) return { total, resources: [] };
  const ids = (await sql<{ id: string }>`SELECT p.id FROM identity.people p WHERE ${where} ORDER BY ${order} ${direction}, p.id COLLATE "C" LIMIT ${q.count} OFFSET ${q.startIndex - 1}`.execute(d.db)).rows.map((r) => r.id);
  // The page's people, in the page's order (one query each would be 200 round trips; a page is read in one).
  const entries = await entriesOf(d.db, ids);
  const names = await namesFor(d.db, entries);
  return { total, resources: entries.map((e) => toScimUser(e, d, names)) };
}

async function entriesOf(db: IdentityDb, ids: readonly string[]): Promise<DirectoryEntry[]> {
  if (!ids.length) return [];
  // getDirectoryPerson per id inside one transaction: the page is read as of one snapshot.
  return db.transaction().execute(async (trx) => {
    await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`.execute(trx);
    const out: DirectoryEntry[] = [];
    for (const id of ids) {
      const e = await getDirectoryPerson(trx, id);
      if (e) out.push(e);
    }
    return out;
  });
}

/** If-Match: `*`, or one of the listed ETags must be the current one (weak comparison: W/ is ignored). */
export function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim());
  const strip = (t: string) => t.replace(/^W\//, '');
  if (tags.includes('*') || tags.some((t) => strip(t) === strip(current))) return;
  throw new ScimError(412, `the resource changed: its version is now ${current}, not ${ifMatch.slice(0, 100)}`);
}

/** Writes one person through applyPeople, in `trx`; the directory's refusals become SCIM errors. */
async function write(d: ScimDeps, trx: IdentityTx, w: UserWrite): Promise<void> {
  try {
    await applyPeople(trx, { clock: d.clock, bus: d.bus }, [w.person], 'scim', { accounts: { [w.person.id]: { userName: w.userName, externalId: w.externalId } } });
  } catch (err) {
    if (err instanceof DirectoryRefused) {
      const clash = err.problems.find((p) => (p.field === 'email' || p.field === 'userName' || p.field === 'externalId') && / is also /.test(p.message));
      if (clash) throw new ScimError(409, err.problems.map((p) => `${scimName(p.field)}: ${p.message}`).join('; '), 'uniqueness');
      throw new ScimError(400, err.problems.map((p) => `${scimName(p.field)}: ${p.message}`).join('; '), 'invalidValue');
    }
    throw err;
  }
}

const scimName = (field: string) =>
  ({ email: 'emails.value', managerId: 'manager.value', hrPartnerId: 'hrPartner.value', workingHours: 'workingDays/workStart/workEnd', id: 'employeeNumber', name: 'name.formatted' })[field] ?? field;

/**
 * Takes the directory's writer lock (the one applyPeople takes; taken first here, so the If-Match check and the
 * write see the same version, and no row lock waits on it the other way round) and reads the person.
 */
export async function lockAndRead(trx: IdentityTx, id: string): Promise<DirectoryEntry | undefined> {
  await lockDirectory(trx);
  return isDirectoryId(id) ? getDirectoryPerson(trx, id) : undefined;
}

export async function lockDirectory(trx: IdentityTx): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('identity.directory'))`.execute(trx);
}

const newId = () => `U${randomBytes(6).toString('hex').toUpperCase()}`;

export async function createUser(d: ScimDeps, body: unknown): Promise<{ resource: ScimJson; etag: string }> {
  const w = fromScimUser(body, { newId });
  await d.db.transaction().execute(async (trx) => {
    if (await lockAndRead(trx, w.person.id)) throw new ScimError(409, `a User with id (employeeNumber) ${w.person.id} exists already`, 'uniqueness');
    // applyPeople would update a person of that userName's id; a second POST of one userName is a conflict (RFC 7644 §3.3).
    const same = await trx.selectFrom('people').select('id').where(sql`lower(user_name)`, '=', w.userName.toLowerCase()).executeTakeFirst();
    if (same) throw new ScimError(409, `userName ${w.userName} is already User ${same.id}'s`, 'uniqueness');
    await write(d, trx, w);
  });
  return getUser(d, w.person.id);
}

export async function replaceUser(d: ScimDeps, id: string, body: unknown, ifMatch: string | undefined): Promise<{ resource: ScimJson; etag: string }> {
  await d.db.transaction().execute(async (trx) => {
    const current = await lockAndRead(trx, id);
    if (!current) throw scimNotFound(`User ${id}`);
    checkIfMatch(ifMatch, userEtag(current, await namesFor(trx, [current])));
    const w = fromScimUser(body, { id, roles: current.person.roles });
    // A replacement that does not name `active` keeps it: a deactivated person comes back only when a client says so.
    const active = member(body, 'active');
    await write(d, trx, active === undefined || active === null ? { ...w, person: { ...w.person, active: current.person.active } } : w);
  });
  return getUser(d, id);
}

export async function patchUser(d: ScimDeps, id: string, operations: readonly PatchOperation[], ifMatch: string | undefined): Promise<{ resource: ScimJson; etag: string }> {
  await d.db.transaction().execute(async (trx) => {
    const current = await lockAndRead(trx, id);
    if (!current) throw scimNotFound(`User ${id}`);
    const names = await namesFor(trx, [current]);
    checkIfMatch(ifMatch, userEtag(current, names));
    const before = toScimUser(current, d, names);
    const after = withChangedName(applyPatch(USER_TYPE, before, operations), current.person.name);
    await write(d, trx, fromScimUser(after, { id, roles: current.person.roles }));
  });
  return getUser(d, id);
}

/**
 * EMS keeps one name, answered as both name.formatted and displayName: after a PATCH the one that changed wins
 * (a client replacing displayName, or name.givenName / name.familyName, changes the name).
 */
function withChangedName(after: ScimJson, was: string): ScimJson {
  const name = (after.name ?? {}) as Record<string, unknown>;
  const formatted = typeof name.formatted === 'string' ? name.formatted : undefined;
  const display = typeof after.displayName === 'string' ? after.displayName : undefined;
  const parts = [name.givenName, name.familyName].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  const next = formatted !== undefined && formatted !== was ? formatted : display !== undefined && display !== was ? display : parts.length ? parts.join(' ') : (formatted ?? display);
  return { ...after, name: next === undefined ? {} : { formatted: next }, displayName: next };
}

/** DELETE: the directory never deletes a person; they become inactive (active=false), kept with their history. */
export async function deactivateUser(d: ScimDeps, id: string, ifMatch: string | undefined): Promise<void> {
  await d.db.transaction().execute(async (trx) => {
    const current = await lockAndRead(trx, id);
    if (!current) throw scimNotFound(`User ${id}`);
    checkIfMatch(ifMatch, userEtag(current, await namesFor(trx, [current])));
    if (!current.person.active) return;
    await write(d, trx, { person: { ...current.person, active: false }, userName: current.userName, externalId: current.externalId });
  });
}
