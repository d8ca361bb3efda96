/**
 * One database role per service: "no service reads another's tables" is enforced by PostgreSQL itself.
 * On a private embedded server (SCRAM passwords, as `npm start` runs it), every service's schema migrated
 * as the admin, then each service's role made as `ems migrate` makes them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, waitFor } from '@ems/platform/testing';
import { http, startAcceptanceEms } from './acceptance/harness.ts';
import { loadConfig, startEms } from '@ems/server';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { createSecrets, parseSecretsKey } from '@ems/identity';
import { createLogger, createPool, freePort, migrate, serviceRoleName, startEmbeddedPostgres, type EmbeddedPostgres, type Pool } from '@ems/platform';
import { buildServiceModulesForSeeding } from '../packages/server/src/seed-modules.ts';
import { ensureRolesFor, rolePassword } from '../packages/server/src/database-roles.ts';
import { EMS_BIN } from './support/ems-process.ts';

const passwordOf = (service: string) => `pw-${service}-${'x'.repeat(8)}`;

describe('one database role per service', () => {
  let dir: string;
  let server: EmbeddedPostgres;
  let admin: Pool;
  let services: string[];
  const clients: pg.Client[] = [];

  /** A connection as a service's role, over the server's socket, with the given password. */
  const connectAs = async (service: string, password = passwordOf(service)) => {
    const url = new URL(server.socketUrl);
    url.username = serviceRoleName('ems', service);
    url.password = password;
    const c = new pg.Client({ connectionString: url.toString() });
    clients.push(c);
    await c.connect();
    return c;
  };
  const refusal = (p: Promise<unknown>) => p.then(() => 'allowed', (err: { code?: string }) => err.code);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ems-roles-'));
    server = await startEmbeddedPostgres({ dataDir: dir, database: 'ems' });
    admin = createPool(server.socketUrl, { max: 2 });
    const modules = buildServiceModulesForSeeding(admin, createLogger({ level: 'error' }));
    for (const m of modules) await migrate(admin, m.schema, m.migrations);
    await ensureRolesFor(server.socketUrl, modules, passwordOf);
    services = modules.map((m) => m.name);
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await admin?.end();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when the hr role reads or writes access\'s tables, then PostgreSQL refuses (42501); its own tables it reads and writes', async () => {
    const hr = await connectAs('hr');
    expect((await hr.query('SELECT current_user, count(*)::int AS n FROM hr.employees')).rows[0]).toEqual({ current_user: 'ems_hr', n: 0 });
    await hr.query(`INSERT INTO hr.hr_leads (id, name, email) VALUES ('L1', 'Lead', 'lead@example.com')`).catch((err: Error) => {
      throw new Error(`hr could not write its own table: ${err.message}`);
    });
    expect(await refusal(hr.query('SELECT * FROM access.holds'))).toBe('42501');
    expect(await refusal(hr.query('SELECT * FROM identity.signing_keys'))).toBe('42501');
    expect(await refusal(hr.query('SELECT * FROM ems.resignations'))).toBe('42501');
    expect(await refusal(hr.query('DELETE FROM notification.emails'))).toBe('42501');
    // Nor can it make tables where others might read them, or become someone else.
    expect(await refusal(hr.query('CREATE TABLE public.stash (x int)'))).toBe('42501');
    expect(await refusal(hr.query('CREATE TABLE hr.stash (x int)'))).toBe('42501');
    expect(await refusal(hr.query(`SET ROLE ${serviceRoleName('ems', 'access')}`))).toBe('42501');
  });

  it('when access reaches its own schema, then it may add to its audit and its chain but never change or remove an entry or a link', async () => {
    const access = await connectAs('access');
    expect((await access.query('SELECT count(*)::int AS n FROM access.holds')).rows[0]).toEqual({ n: 0 });
    const rights = await access.query<{ ins: boolean; upd: boolean; del: boolean }>(
      `SELECT has_table_privilege('access.audit', 'INSERT') AS ins, has_table_privilege('access.audit', 'UPDATE') AS upd, has_table_privilege('access.audit', 'DELETE') AS del`,
    );
    expect(rights.rows[0]).toEqual({ ins: true, upd: false, del: false });
    // Its sealer links entries into the chain: it adds links (never changes or removes one) and empties the pending queue.
    const sealing = await access.query<{ link_ins: boolean; link_upd: boolean; link_del: boolean; pending_del: boolean }>(
      `SELECT has_table_privilege('access.audit_chain', 'INSERT') AS link_ins, has_table_privilege('access.audit_chain', 'UPDATE') AS link_upd,
              has_table_privilege('access.audit_chain', 'DELETE') AS link_del, has_table_privilege('access.audit_pending', 'DELETE') AS pending_del`,
    );
    expect(sealing.rows[0]).toEqual({ link_ins: true, link_upd: false, link_del: false, pending_del: true });
    expect(await refusal(access.query('SELECT * FROM hr.employees'))).toBe('42501');
  });

  it('when a service signs in, then only with its own password, as a role that is no superuser', async () => {
    expect(await refusal(connectAs('hr', 'not-the-password'))).toBe('28P01');
    const roles = await admin.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; verifier: string }>(
      `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, left(rolpassword, 14) AS verifier FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname`,
      [services.map((s) => serviceRoleName('ems', s))],
    );
    expect(roles.rows.map((r) => r.rolname)).toEqual(services.map((s) => `ems_${s}`).sort());
    for (const r of roles.rows) expect(r).toMatchObject({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, verifier: 'SCRAM-SHA-256$' });
  });

  it('when the roles are made again (the next release), then nothing is lost and the rights stay as they were', async () => {
    await ensureRolesFor(server.socketUrl, services.map((name) => ({ name, schema: name })), passwordOf);
    const hr = await connectAs('hr');
    expect((await hr.query('SELECT count(*)::int AS n FROM hr.hr_leads')).rows[0]).toEqual({ n: 1 });
    expect(await refusal(hr.query('SELECT * FROM access.holds'))).toBe('42501');
  });

  it('when role names are made for two databases on one server, then they never collide', () => {
    expect(serviceRoleName('ems', 'hr')).not.toBe(serviceRoleName('ems_test_other', 'hr'));
    const long = 'ems_test_'.padEnd(63, 'a');
    const name = serviceRoleName(long, 'notification');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name).not.toBe(serviceRoleName(`${long.slice(0, -1)}b`, 'notification'));
    expect(name.endsWith('_notification')).toBe(true);
  });
});

describe('ems migrate on an external server', () => {
  it('when ems migrate runs as the admin with the secrets key, then every service has its role, each password derived from the key, hr is refused access\'s tables — and the roles go with the database', async () => {
    const db = await createTestDatabase(inject('testServerUrl'), 'roles_migrate');
    const clients: pg.Client[] = [];
    try {
      const key = randomBytes(32).toString('base64');
      const env = { ...process.env, EMS_DATABASE_URL: db.url, EMS_SECRETS_KEY: key, EMS_LOG_LEVEL: 'error' };
      const { stdout } = await promisify(execFile)(process.execPath, [EMS_BIN, 'migrate'], { env, timeout: 120_000 });
      for (const service of ['identity', 'notification', 'hr', 'access', 'ems', 'webhooks']) expect(stdout).toMatch(new RegExp(`role ${db.name}_${service}\\s`));
      expect(stdout).toMatch(new RegExp(`role ${db.name}_hr\\s+hr, bus\\n`));
      expect(stdout).toMatch(new RegExp(`role ${db.name}_ems\\s+ems, dbos, bus\\n`));
      expect(stdout).not.toContain(key);

      // `ems credentials` prints each service's URL: its role, on the same server, with the password the key derives.
      const printed = (await promisify(execFile)(process.execPath, [EMS_BIN, 'credentials'], { env, timeout: 60_000 })).stdout;
      for (const service of ['IDENTITY', 'EMS', 'NOTIFICATION', 'HR', 'ACCESS', 'WEBHOOKS']) expect(printed).toMatch(new RegExp(`^DATABASE_URL_${service}=postgres://${db.name}_${service.toLowerCase()}:`, 'm'));
      const url = new URL(/^DATABASE_URL_HR=(.*)$/m.exec(printed)![1]!);
      expect(url.password).toBe(rolePassword(createSecrets(parseSecretsKey(key)), db.name, 'hr'));
      expect(url.host).toBe(new URL(db.url).host);
      const hr = new pg.Client({ connectionString: url.toString() });
      clients.push(hr);
      await hr.connect();
      expect((await hr.query('SELECT current_user')).rows[0]).toEqual({ current_user: `${db.name}_hr` });
      await hr.query('SELECT count(*) FROM hr.employees');
      expect(await hr.query('SELECT * FROM access.holds').then(() => 'allowed', (err: { code?: string }) => err.code)).toBe('42501');
    } finally {
      for (const c of clients) await c.end().catch(() => undefined);
      await db.drop();
    }
    const server = new pg.Client({ connectionString: inject('testServerUrl') });
    await server.connect();
    try {
      const left = await server.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [`${db.name}_`]);
      expect(left.rows).toEqual([]);
    } finally {
      await server.end();
    }
  }, 180_000);
});

describe('the all-in-one process', () => {
  it('when EMS owns its database, then each service\'s code connects as its own role: hr reads its tables and is refused access\'s, and a case still runs its course', async () => {
    const env = await startAcceptanceEms('choreography', 'roles_runtime');
    try {
      const hr = env.ems.database.forService('hr');
      expect((await hr.query('SELECT current_user, count(*)::int > 0 AS seeded FROM hr.hr_partners')).rows[0]).toEqual({ current_user: `${env.db.name}_hr`, seeded: true });
      expect(await hr.query('SELECT * FROM access.holds').then(() => 'allowed', (err: { code?: string }) => err.code)).toBe('42501');
      const identity = env.ems.database.forService('identity');
      expect((await identity.query('SELECT current_user, count(*)::int > 0 AS seeded FROM identity.people')).rows[0]).toEqual({ current_user: `${env.db.name}_identity`, seeded: true });
      expect(await identity.query('SELECT * FROM notification.emails').then(() => 'allowed', (err: { code?: string }) => err.code)).toBe('42501');
      // And the flow works on those pools: a case reaches the services over the bus and each acts.
      const res = await http<{ id: string }>(env.base, 'POST', '/api/resignations', { employeeId: 'E1010' });
      expect(res.status).toBe(201);
      await waitFor(async () => {
        const c = await http<{ status: string }>(env.base, 'GET', `/api/resignations/${res.body.id}`);
        return c.body.status === 'awaiting_decision' ? true : undefined;
      }, 'the case to await a decision');
    } finally {
      await env.stop();
    }
  }, 180_000);
});

describe('the all-in-one process on a server where it may not make roles', () => {
  it('when its database user owns the database but may not create roles, then start-up stops at once, saying what to do', async () => {
    const db = await createTestDatabase(inject('testServerUrl'), 'roles_limited');
    const limited = `${db.name}_limited`; // dropped with the database
    const server = new pg.Client({ connectionString: db.url });
    await server.connect();
    try {
      await server.query(`CREATE ROLE ${limited} LOGIN PASSWORD 'limited-password' NOSUPERUSER NOCREATEROLE`);
      await server.query(`ALTER DATABASE ${db.name} OWNER TO ${limited}`);
    } finally {
      await server.end();
    }
    const url = new URL(db.url);
    url.username = limited;
    url.password = 'limited-password';
    try {
      const config = loadConfig({ EMS_PORT: String(await freePort()), EMS_DATABASE_URL: url.toString(), EMS_LOG_LEVEL: 'fatal', EMS_SECRETS_KEY: TEST_SECRETS_KEY });
      const started = startEms(config);
      await expect(started).rejects.toThrow(/EMS_DATABASE_URL: .*database role of its own.*CREATEROLE/s);
    } finally {
      await db.drop();
    }
  }, 120_000);
});
