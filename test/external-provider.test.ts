/**
 * EMS with an external OpenID provider (EMS_OIDC_ISSUER) instead of its built-in one. The "organisation's
 * provider" here is another process's identity service (the same certified implementation, on its own
 * database and port): EMS serves no /oidc of its own, accepts that issuer's tokens for people, gets its
 * services' client-credentials tokens from it (the whole orchestrated flow runs), and the CLI's device
 * grant goes to it — the same verification code as with the built-in provider.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, createPool, type Pool } from '@ems/platform';
import { createTestDatabase, requestJson, waitFor, type TestDatabase } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { clientSecretFor } from '@ems/identity';
import { confirmDeviceCode, signIn, startTestIdentity, type TestIdentity } from '@ems/identity/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { EMS_BIN } from './support/ems-process.ts';

const org = demoOrg();
const EMP = org.employees.find((e) => e.managerId && e.departmentId === 'eng' && !org.employees.some((x) => x.managerId === e.id))!;

describe('an external OpenID provider', () => {
  let providerDb: TestDatabase;
  let providerPool: Pool;
  let provider: TestIdentity;
  let env: AcceptanceEnv;
  let dir: string;

  beforeAll(async () => {
    providerDb = await createTestDatabase(inject('testServerUrl'), 'ext_idp');
    providerPool = createPool(providerDb.url, { max: 5 });
    provider = await startTestIdentity(providerPool, org, createLogger({ level: 'silent' }));
    const issuer = `${provider.url}/oidc`;
    const secret = (client: string) => clientSecretFor(provider.secrets, client);
    env = await startAcceptanceEms('orchestration', 'ext_idp_ems', {
      env: {
        EMS_OIDC_ISSUER: issuer,
        EMS_OIDC_CLIENT_SECRET: secret('ems-web'),
        EMS_OIDC_PERSON_CLAIM: 'sub',
        EMS_SERVICE_CLIENT_SECRET_EMS: secret('ems-service-ems'),
        EMS_SERVICE_CLIENT_SECRET_NOTIFICATION: secret('ems-service-notification'),
        EMS_SERVICE_CLIENT_SECRET_HR: secret('ems-service-hr'),
        EMS_SERVICE_CLIENT_SECRET_ACCESS: secret('ems-service-access'),
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), 'ems-ext-'));
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
    await provider?.stop();
    await providerPool?.end();
    await providerDb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('when EMS trusts an external issuer, then it runs no provider of its own and tells clients where to sign in', async () => {
    expect((await fetch(`${env.base}/oidc/.well-known/openid-configuration`)).status).toBe(404);
    const config = await requestJson<{ issuer: string; devProvider: boolean }>(env.base, 'GET', '/auth/config');
    expect(config.body).toMatchObject({ issuer: `${provider.url}/oidc`, devProvider: false });
    // Its own rotation is the provider's business.
    const operator = (await signIn(provider.url, 'E1013')).accessToken;
    expect((await requestJson(env.base, 'POST', '/api/signing-keys', undefined, { authorization: `Bearer ${operator}` })).status).toBe(409);
  });

  it("when a person brings the provider's token, then EMS admits them with their directory roles, and the orchestrator's calls use the provider's client credentials", async () => {
    const token = (await signIn(provider.url, EMP.id)).accessToken;
    const me = await requestJson<{ id: string; roles: string[] }>(env.base, 'GET', '/api/me', undefined, { authorization: `Bearer ${token}` });
    expect(me.body).toMatchObject({ id: EMP.id, roles: ['employee'] });
    const submitted = await requestJson<{ id: string }>(env.base, 'POST', '/api/resignations', { employeeId: EMP.id }, { authorization: `Bearer ${token}` });
    expect(submitted.status).toBe(201);
    const settled = await waitFor(async () => {
      const c = (await requestJson<{ status: string }>(env.base, 'GET', `/api/resignations/${submitted.body.id}`, undefined, { authorization: `Bearer ${token}` })).body;
      return c.status !== 'in_progress' ? c : undefined;
    }, 'the case to settle');
    expect(settled.status).toBe('awaiting_decision');
  });

  it("when a token of EMS's own kind comes from another issuer, then it is refused", async () => {
    // The test EMS of this file would have issued it (built-in provider) — but this EMS trusts only the external one.
    const other = await startAcceptanceEms('choreography', 'ext_idp_other');
    try {
      const foreign = (await signIn(other.base, EMP.id)).accessToken;
      const res = await requestJson<{ detail: string }>(env.base, 'GET', '/api/me', undefined, { authorization: `Bearer ${foreign}` });
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/issued by|key/);
    } finally {
      await other.stop();
    }
  });

  it("when the CLI signs in, then it discovers the provider from EMS and uses the provider's device grant", async () => {
    const child = spawn(process.execPath, [EMS_BIN, 'login'], { env: { ...process.env, EMS_URL: env.base, EMS_CREDENTIALS_FILE: path.join(dir, 'credentials.json'), EMS_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await waitFor(() => /https?:\/\/\S+user_code=\S+/.exec(out)?.[0], `the device URL:\n${out}`);
    expect(url.startsWith(`${provider.url}/oidc/device`)).toBe(true);
    await confirmDeviceCode(provider.url, url, 'hr-lead');
    expect(await exited, out).toBe(0);
    expect(out).toMatch(/Signed in as .*\(hr-lead\) — roles: hr_lead/);
  });
});
