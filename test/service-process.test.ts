/**
 * One service as its own process (`ems start --service access`): when its database is unreachable, and
 * then reachable but not migrated, the process stays up — /healthz answers, /readyz says not ready and
 * why, the API answers 503 — and retries; it becomes ready by itself once the database is back and
 * `ems migrate` has run. No crash loop, no replica migrating on its own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '@ems/platform';
import { createTestDatabase, requestJson, waitFor, type TestDatabase } from '@ems/platform/testing';
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
    const ems = await processes.start(
      { ...shared, EMS_DATABASE_URL: viaProxy.toString(), EMS_PORT: String(port) },
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

    // The database comes back, unmigrated: still not ready, naming the command to run.
    await proxy.up();
    await waitFor(async () => {
      const r = await http<{ checks: Record<string, string> }>(base, 'GET', '/readyz');
      return r.status === 503 && r.body.checks.startup?.includes('ems migrate') ? true : undefined;
    }, 'readyz to ask for migrations', 60_000);
    expect(child.exitCode).toBeNull();

    // Migrations, once, by the dedicated command: the process becomes ready by itself.
    const migrated = await execFileAsync(process.execPath, [BIN, 'migrate'], { env: { ...process.env, EMS_DATABASE_URL: db.url }, timeout: 60_000 });
    expect(migrated.stdout).toMatch(/access\s+applied/);
    // The people who may sign in: the organisation, loaded once like the migrations.
    await execFileAsync(process.execPath, [BIN, 'seed'], { env: { ...process.env, EMS_DATABASE_URL: db.url }, timeout: 60_000 });
    await processes.start({ ...shared, EMS_DATABASE_URL: db.url, EMS_PORT: String(identityPort) }, { args: ['start', '--service', 'identity'] });
    await waitFor(async () => ((await http(base, 'GET', '/readyz')).status === 200 ? true : undefined), 'readyz to turn ready', 60_000);
    const systems = await http<{ items: unknown[] }>(base, 'GET', '/api/systems');
    expect(systems.status).toBe(200);
    // It ran only its own service: another service's API is not here.
    expect((await http(base, 'GET', '/api/resignations')).status).toBe(404);
    // Restarts of this process never happened: the same one waited throughout.
    expect(child.exitCode).toBeNull();
    expect(await ems.stop()).toBe(0);
  }, 180_000);
});
