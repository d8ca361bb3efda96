/**
 * One service as its own process (`ems start --service access`): when its database is unreachable, and
 * then reachable but not migrated, the process stays up — /healthz answers, /readyz says not ready and
 * why, the API answers 503 — and retries; it becomes ready by itself once the database is back and
 * `ems migrate` has run. No crash loop, no replica migrating on its own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { freePort, serviceRoleName } from '@ems/platform';
import { createSecrets, parseSecretsKey } from '@ems/identity';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { rolePassword, roleUrl } from '../packages/server/src/database-roles.ts';
import { createTestDatabase, freePortRange, requestJson, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV, useProvider } from './support/auth.ts';
import { startProxy, type Proxy } from './support/proxy.ts';
import { EMS_BIN as BIN, emsProcesses } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);

describe('a service in its own process', () => {
  let db: TestDatabase;
  let proxy: Proxy;
  const processes = emsProcesses();

  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'service_process');
    const pgPort = Number(new URL(db.url).port || 5432);
    proxy = await startProxy(() => pgPort, await freePort());
    await proxy.down();
  });
  afterAll(async () => {
    processes.killAll();
    await proxy?.stop();
    await db?.drop();
  });

  it('when its database is down, then unmigrated, then it waits not ready — and becomes ready by itself once it can', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    // The identity service (the built-in provider) runs as a process of its own; the public URL is its.
    const identityPort = await freePort();
    const identityBase = `http://127.0.0.1:${identityPort}`;
    // Access checks cases with EMS: in a split deployment it must be told where EMS is (not reached in this test).
    const shared = { ...TEST_AUTH_ENV, EMS_LOG_LEVEL: 'error', EMS_MODE: 'choreography', EMS_PUBLIC_URL: identityBase, EMS_IDENTITY_URL: identityBase, EMS_CASES_URL: 'http://127.0.0.1:9' };
    useProvider(base, identityBase);
    // Its own role's URL, as `ems credentials` prints it (the role is made by `ems migrate`, below).
    const accessUrl = roleUrl(viaProxy.toString(), 'access', rolePassword(createSecrets(parseSecretsKey(TEST_SECRETS_KEY)), db.name, 'access'));
    const ems = await processes.start(
      { ...shared, EMS_DATABASE_URL: accessUrl, EMS_PORT: String(port) },
      { args: ['start', '--service', 'access'], readyText: null },
    );
    const child = ems.child;

    // Database unreachable: up, not ready, the API refuses politely.
    const notReady = await waitFor(async () => {
      const r = await http<{ status: string; checks: Record<string, string> }>(base, 'GET', '/readyz').catch(() => undefined);
      return r?.status === 503 && r.body.checks.startup?.includes('waiting for the database') ? r.body : undefined;
    }, `readyz to report the database:\n${ems.output()}`);
    expect(notReady.status).toBe('not ready');
    expect((await http(base, 'GET', '/healthz')).status).toBe(200);
    // Before it is ready, the API answers 503 to anyone (no credential is checked against a database it cannot reach).
    const refused = await requestJson<{ status: number; detail: string }>(base, 'GET', '/api/systems');
    expect(refused.status).toBe(503);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body.detail).toMatch(/starting/);

    // The database comes back, unmigrated (no role yet): still not ready, naming the command to run.
    await proxy.up();
    await waitFor(async () => {
      const r = await http<{ checks: Record<string, string> }>(base, 'GET', '/readyz');
      return r.status === 503 && r.body.checks.startup?.includes('ems migrate') ? true : undefined;
    }, 'readyz to ask for migrations', 60_000);
    expect(child.exitCode).toBeNull();

    // Migrations, once, by the dedicated command: the process becomes ready by itself.
    // As the admin, with the key: the roles get their passwords.
    const migrated = await execFileAsync(process.execPath, [BIN, 'migrate'], { env: { ...process.env, EMS_DATABASE_URL: db.url, EMS_SECRETS_KEY: TEST_SECRETS_KEY }, timeout: 60_000 });
    expect(migrated.stdout).toMatch(/access\s+applied/);
    // The people who may sign in: the organisation, loaded once like the migrations.
    await execFileAsync(process.execPath, [BIN, 'seed'], { env: { ...process.env, EMS_DATABASE_URL: db.url }, timeout: 60_000 });
    // Identity holds the key: given the admin's URL, it logs in as its role all the same (derived from the key).
    await processes.start({ ...shared, EMS_DATABASE_URL: db.url, EMS_PORT: String(identityPort) }, { args: ['start', '--service', 'identity'] });
    await waitFor(async () => ((await http(base, 'GET', '/readyz')).status === 200 ? true : undefined), 'readyz to turn ready', 60_000);
    const systems = await http<{ items: unknown[] }>(base, 'GET', '/api/systems');
    expect(systems.status).toBe(200);
    // It ran only its own service: another service's API is not here.
    expect((await http(base, 'GET', '/api/resignations')).status).toBe(404);
    // Each process logs in as its service's role, and nothing logs in as a superuser.
    const probe = new pg.Client({ connectionString: db.url, application_name: 'roles-probe' });
    await probe.connect();
    try {
      const { rows } = await probe.query<{ role: string; superuser: boolean; app: string }>(
        `SELECT a.usename AS role, r.rolsuper AS superuser, a.application_name AS app
           FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
          WHERE a.datname = $1 AND a.pid <> pg_backend_pid()`,
        [db.name],
      );
      expect(rows.filter((r) => r.app === 'ems-access').length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.app === 'ems-identity').length).toBeGreaterThan(0);
      for (const r of rows) expect(r, JSON.stringify(r)).toMatchObject({ superuser: false, role: serviceRoleName(db.name, r.app.replace(/^ems-/, '').replace(/-critical$/, '')) });
      // (ems-<service>-critical: the bus's critical lane, a pool of the same service under the same role.)
    } finally {
      await probe.end();
    }
    // Restarts of this process never happened: the same one waited throughout.
    expect(child.exitCode).toBeNull();
    expect(await ems.stop()).toBe(0);
  }, 180_000);

  it("when a service's process is given the admin's URL and not the key, then it stops at once, naming the URL it needs", async () => {
    const port = await freePort();
    const run = execFileAsync(process.execPath, [BIN, 'start', '--service', 'hr'], {
      env: { ...process.env, EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_LOG_LEVEL: 'error', EMS_SERVICE_CLIENT_SECRET_HR: 'x'.repeat(43), EMS_NOTIFICATION_URL: 'http://127.0.0.1:9', EMS_CASES_URL: 'http://127.0.0.1:9', EMS_IDENTITY_URL: 'http://127.0.0.1:9', EMS_PUBLIC_URL: 'http://127.0.0.1:9' },
      timeout: 60_000,
    });
    const failed = await run.then(() => undefined, (err: { code?: number; stderr?: string; stdout?: string }) => err);
    expect(failed?.code).toBe(78);
    const text = `${failed?.stderr ?? ''}${failed?.stdout ?? ''}`;
    expect(text).toContain(serviceRoleName(db.name, 'hr'));
    expect(text).toContain('ems credentials');
    expect(text).toContain('DATABASE_URL_HR');
    expect(text).not.toContain(new URL(db.url).password || '\u0000never');
  }, 60_000);

  it('when the fleet runs every service as its own process, then each member logs in as its own role and none as a superuser', async () => {
    const port = await freePortRange(8);
    const fleet = await processes.start(
      { ...TEST_AUTH_ENV, EMS_PORT: String(port), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: 'smtp://127.0.0.1:9', EMS_LOG_LEVEL: 'warn', EMS_MODE: 'orchestration' },
      { args: ['start', '--fleet'], readyText: 'EMS fleet is up', timeoutMs: 180_000 },
    );
    const probe = new pg.Client({ connectionString: db.url, application_name: 'roles-probe' });
    await probe.connect();
    try {
      const { rows } = await probe.query<{ role: string; superuser: boolean }>(
        `SELECT DISTINCT a.usename AS role, r.rolsuper AS superuser
           FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
          WHERE a.datname = $1 AND a.pid <> pg_backend_pid()`,
        [db.name],
      );
      expect(rows.filter((r) => r.superuser), fleet.output()).toEqual([]);
      const roles = rows.map((r) => r.role);
      for (const service of ['identity', 'ems', 'notification', 'hr', 'access', 'webhooks']) expect(roles).toContain(serviceRoleName(db.name, service));
    } finally {
      await probe.end();
    }
    // SCIM through the gateway: an unknown path under /scim gets the identity service's SCIM 404, not EMS's problem+json.
    const scim = await fetch(`http://127.0.0.1:${port}/scim/v2/NoSuchResource`);
    expect(scim.status).toBe(404);
    expect(scim.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(await scim.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' });
    expect(await fleet.stop()).toBe(0);
  }, 300_000);
});
