/** `ems seed` loads the demo organisation into every service's schema, and can be run again safely. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../packages/server/bin/ems.mjs');

describe('ems seed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'seed');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const counts = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const n = async (table: string) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
      return {
        emsRoster: await n('ems.employees'),
        hrEmployees: await n('hr.employees'),
        partners: await n('hr.hr_partners'),
        grants: await n('access.grants'),
        systems: await n('access.systems'),
        people: await n('identity.people'),
        adminRoles: await n('identity.role_assignments'),
      };
    } finally {
      await client.end();
    }
  };

  it('when run on an empty database, then every service holds its part of the organisation; run again, nothing is duplicated', async () => {
    const org = demoOrg();
    const run = () => execFileAsync(process.execPath, [CLI, 'seed'], { env: { ...process.env, EMS_DATABASE_URL: db.url }, timeout: 120_000 });
    const first = await run();
    expect(first.stdout).toContain(`${org.employees.length} employees`);
    const expected = {
      emsRoster: org.employees.length,
      hrEmployees: org.employees.length,
      partners: org.hrPartners.length,
      grants: org.grants.length,
      systems: org.systems.length,
      // Who may sign in: employees, HR partners and the HR lead; and who holds an administrative role.
      people: org.employees.length + org.hrPartners.length + 1,
      adminRoles: org.roleAssignments.length,
    };
    expect(await counts()).toEqual(expected);
    await run();
    expect(await counts()).toEqual(expected);
  }, 180_000);
});
