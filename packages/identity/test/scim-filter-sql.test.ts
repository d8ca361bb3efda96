/**
 * The SCIM filter's two evaluators agree: for generated filters over the demo organisation's directory (real
 * PostgreSQL), the people the SQL translation selects are exactly the Users the in-memory evaluator matches.
 * Values a caller writes travel as parameters: quotes, backslashes and SQL in them select nothing odd.
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createKysely, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { IDENTITY_SCHEMA, type IdentityDB } from '../src/db/identity.db.ts';
import { migrations } from '../src/db/migrations.ts';
import { seedDirectory } from '../src/directory/directory.ts';
import { getDirectoryPerson } from '../src/directory/apply-people.ts';
import { COMPARE_OPS, parseFilter, printFilter, type AttrPath, type Filter } from '../src/scim/filter.ts';
import { matches } from '../src/scim/evaluate.ts';
import { USER_TYPE, userFilterSql } from '../src/scim/filter-sql.ts';
import { toScimUser, type ScimJson } from '../src/scim/user.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const EMSX = 'urn:ems:params:scim:schemas:extension:ems:2.0:User';

let db: TestDatabase;
let pool: Pool;
let users: ScimJson[];
const kysely = () => createKysely<IdentityDB>(pool, IDENTITY_SCHEMA);

beforeAll(async () => {
  db = await createTestDatabase(inject('testServerUrl'), 'scimfilter');
  pool = createPool(db.url, { max: 2 });
  await migrate(pool, IDENTITY_SCHEMA, migrations);
  await seedDirectory(kysely(), demoOrg());
  // Some variety the seed does not have: no title, a location, other days, an externalId, inactive.
  await pool.query(`UPDATE identity.people SET title = NULL WHERE id IN (SELECT id FROM identity.people ORDER BY id LIMIT 3)`);
  await pool.query(`UPDATE identity.people SET location = 'Berlin', external_id = 'x-' || id, work_days = '{1,2,3}', work_start = '08:00' WHERE id IN (SELECT id FROM identity.people ORDER BY id DESC LIMIT 7)`);
  await pool.query(`UPDATE identity.people SET active = false, timezone = 'Europe/Berlin' WHERE id IN (SELECT id FROM identity.people ORDER BY id LIMIT 5 OFFSET 10)`);
  const ids = (await pool.query<{ id: string }>('SELECT id FROM identity.people ORDER BY id')).rows.map((r) => r.id);
  const entries = await Promise.all(ids.map((id) => getDirectoryPerson(kysely(), id)));
  const names = new Map(entries.map((e) => [e!.person.id, e!.person.name]));
  users = entries.map((e) => toScimUser(e!, { base: 'https://ems.test/scim/v2' }, (id) => names.get(id)));
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const bySql = async (f: Filter) => (await sql<{ id: string }>`SELECT p.id FROM identity.people p WHERE ${userFilterSql(f)} ORDER BY p.id`.execute(kysely())).rows.map((r) => r.id);
const inMemory = (f: Filter) => users.filter((u) => matches(USER_TYPE, f, u)).map((u) => u.id as string).sort();

/** Values drawn from the data itself (and pieces of them), so comparisons hit as well as miss. */
function sample(): { strings: string[] } {
  const strings = new Set<string>(['', 'a', 'E', 'work', 'Berlin', 'operator', 'hr_lead', '08:00', '09:00', 'UTC', "o'brien", 'x"y\\z', "'; DROP TABLE identity.people; --"]);
  for (const u of users.slice(0, 40)) {
    for (const v of [u.userName, u.displayName, u.title, u.id, u.externalId]) {
      if (typeof v === 'string') {
        strings.add(v);
        strings.add(v.slice(0, 3));
        strings.add(v.slice(-3).toUpperCase());
      }
    }
  }
  return { strings: [...strings] };
}

const STRING_PATHS: AttrPath[] = [
  { attr: 'userName' },
  { attr: 'displayName' },
  { attr: 'name', sub: 'formatted' },
  { attr: 'title' },
  { attr: 'timezone' },
  { attr: 'id' },
  { attr: 'externalId' },
  { attr: 'emails' },
  { attr: 'emails', sub: 'value' },
  { attr: 'emails', sub: 'type' },
  { attr: 'addresses', sub: 'locality' },
  { attr: 'addresses', sub: 'type' },
  { attr: 'groups', sub: 'value' },
  { attr: 'groups', sub: 'display' },
  { uri: ENT, attr: 'department' },
  { uri: ENT, attr: 'manager', sub: 'value' },
  { attr: 'manager', sub: 'displayName' },
  { uri: ENT, attr: 'employeeNumber' },
  { uri: EMSX, attr: 'hrPartner', sub: 'value' },
  { attr: 'workStart' },
  { attr: 'workEnd' },
];

function filters(strings: string[]): fc.Arbitrary<Filter> {
  const str = fc.oneof(fc.constantFrom(...strings), fc.string({ maxLength: 4 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')));
  const atom: fc.Arbitrary<Filter> = fc.oneof(
    fc.record({ op: fc.constantFrom(...COMPARE_OPS), path: fc.constantFrom(...STRING_PATHS), value: fc.oneof({ weight: 9, arbitrary: str }, { weight: 1, arbitrary: fc.constant(null) }) }).map((f) =>
      f.value === null && f.op !== 'eq' && f.op !== 'ne' ? { ...f, op: 'eq' as const } : f,
    ),
    fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), path: fc.constantFrom<AttrPath>({ attr: 'active' }, { attr: 'emails', sub: 'primary' }, { attr: 'addresses', sub: 'primary' }), value: fc.boolean() }),
    fc.record({ op: fc.constantFrom(...COMPARE_OPS.filter((o) => !['co', 'sw', 'ew'].includes(o))), path: fc.constant<AttrPath>({ uri: EMSX, attr: 'workingDays' }), value: fc.integer({ min: 0, max: 8 }) }),
    fc.record({ op: fc.constantFrom('gt' as const, 'lt' as const, 'ge' as const), path: fc.constant<AttrPath>({ attr: 'meta', sub: 'lastModified' }), value: fc.constantFrom('2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z') }),
    fc.record({ op: fc.constant('pr' as const), path: fc.constantFrom(...STRING_PATHS, { attr: 'workingDays' }, { attr: 'groups' }, { attr: 'addresses' }) }),
    fc.record({
      op: fc.constant('valuePath' as const),
      path: fc.constantFrom({ attr: 'emails' }, { attr: 'groups' }, { attr: 'addresses' }),
      filter: fc.record({ op: fc.constantFrom('eq' as const, 'co' as const, 'ne' as const, 'sw' as const), path: fc.constantFrom({ attr: 'value' }, { attr: 'type' }, { attr: 'display' }, { attr: 'locality' }), value: str }),
    }).filter((f) => validInside(f.path.attr, f.filter.path.attr)),
  );
  return fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.record({ op: fc.constantFrom('and' as const, 'or' as const), left: tie('f'), right: tie('f') }),
      fc.record({ op: fc.constant('not' as const), filter: tie('f') }),
    ),
  })).f;
}

function validInside(parent: string, sub: string): boolean {
  if (parent === 'emails') return sub === 'value' || sub === 'type';
  if (parent === 'groups') return sub === 'value' || sub === 'display';
  return sub === 'locality' || sub === 'type';
}

describe('SCIM filters in SQL', () => {
  it('selects exactly the Users the in-memory evaluator matches, for any filter', async () => {
    const { strings } = sample();
    expect(users.length).toBeGreaterThan(20);
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(filters(strings), async (f) => {
        const want = inMemory(f);
        if (want.length > 0 && want.length < users.length) hits++;
        expect(await bySql(f), printFilter(f)).toEqual(want);
      }),
      { numRuns: 400 },
    );
    // The generator found selective filters, not only all-or-nothing ones.
    expect(hits).toBeGreaterThan(40);
  }, 120_000);

  it('when a value carries quotes, backslashes or SQL, then it is a value: the table is intact and nothing odd matches', async () => {
    for (const text of [`userName eq "x' OR '1'='1"`, 'title co "\\\\"', `displayName sw "'; DELETE FROM identity.people; --"`]) {
      const f = parseFilter(text);
      expect(await bySql(f), text).toEqual(inMemory(f));
    }
    expect(() => userFilterSql(parseFilter('id eq "\\u0000"'))).toThrow(/NUL/);
    expect((await pool.query('SELECT count(*)::int AS n FROM identity.people')).rows[0]).toEqual({ n: users.length });
  });
});
