/**
 * The directory's relations of an employee (whom Notification may email about their case), asked for at the same
 * moment by several requests, are read together (createDirectoryReader's relations: relationsTogether): each asker
 * gets its own employee's people, an id that is no employee's gets nothing, and the asks share statements.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { IDENTITY_SCHEMA, type IdentityDB } from '../packages/identity/src/db/identity.db.ts';
import { migrations } from '../packages/identity/src/db/migrations.ts';
import { relationsOf, seedDirectory } from '../packages/identity/src/directory/directory.ts';
import { createDirectoryReader } from '../packages/identity/src/identity.service.ts';
import { recordStatements } from './support/recording-pool.ts';

let db: TestDatabase;
let pool: Pool;
/** Every statement text sent through `pool`. */
const sent: string[] = [];
const org = demoOrg();

beforeAll(async () => {
  db = await createTestDatabase(inject('testServerUrl'), 'relationstogether');
  pool = createPool(db.url, { max: 4 });
  recordStatements(pool, sent);
  await migrate(pool, IDENTITY_SCHEMA, migrations);
  await seedDirectory(createKysely<IdentityDB>(pool, IDENTITY_SCHEMA), org);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** Statements that read relations (the hr_lead subquery is theirs alone). */
const relationReads = () => sent.filter((t) => /json_agg/i.test(t) && /hr_lead/i.test(t)).length;

describe('an employee’s relations, read together', () => {
  it('when relations of many employees are asked for at once, then each asker gets its own employee’s people, in fewer statements than asks', async () => {
    const reader = createDirectoryReader(pool);
    const single = createKysely<IdentityDB>(pool, IDENTITY_SCHEMA);
    const employees = org.employees.slice(0, 24).map((e) => e.id);
    const asks = [...employees, 'nobody-at-all', employees[0]!];
    const before = relationReads();
    const answers = await Promise.all(asks.map((id) => reader.relations(id)));
    const statements = relationReads() - before;
    expect(statements).toBeLessThan(asks.length);
    for (const [i, id] of asks.entries()) expect(answers[i]).toEqual(await relationsOf(single, id));
    expect(answers[asks.indexOf('nobody-at-all')]).toBeUndefined();
    const withManager = answers.find((a) => a?.manager);
    expect(withManager?.employee.id).toBeDefined();
    expect(withManager?.hrPartner).not.toBeNull();
  });

  it('when one employee’s relations are asked for alone, then they are read at once', async () => {
    const reader = createDirectoryReader(pool);
    const id = org.employees[5]!.id;
    const before = relationReads();
    const answer = await reader.relations(id);
    expect(relationReads() - before).toBe(1);
    expect(answer?.employee.id).toBe(id);
  });
});
