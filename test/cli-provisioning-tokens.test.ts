/**
 * `ems provisioning-tokens create | list | revoke` against a real EMS (real PostgreSQL, real HTTP, the real `ems`
 * binary, a real access token in EMS_TOKEN as automation would): the token is printed once with the SCIM URL and
 * works at /scim/v2; the list never shows a secret; a revoked token is refused at once; only operators may.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcceptanceEms, tokenFor, HR_LEAD, OPERATOR, type AcceptanceEnv } from './acceptance/harness.ts';
import { EMS_BIN } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);

describe('ems provisioning-tokens', () => {
  let env: AcceptanceEnv;

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'cli_provisioning_tokens');
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  /** Runs `ems provisioning-tokens …` as `who` (their access token in EMS_TOKEN); never throws on a non-zero exit. */
  async function ems(who: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const cliEnv = { ...process.env, EMS_URL: env.base, EMS_TOKEN: await tokenFor(env.base, who), EMS_CREDENTIALS_FILE: '/nonexistent/ems-credentials.json' };
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [EMS_BIN, 'provisioning-tokens', ...args], { env: cliEnv, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }
  const scimUsers = (token: string) => fetch(`${env.base}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
  const stored = async () => (await env.ems.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM identity.provisioning_tokens')).rows[0]!.n;

  it('when an operator creates one, then the token is printed once with the SCIM URL and provisions at once; listed without its secret; revoked, it is refused', { timeout: 120_000 }, async () => {
    const created = await ems(OPERATOR, 'create', '--name', 'Entra ID', '--expires-in-days', '30');
    expect(created.code, created.stderr).toBe(0);
    const id = /Provisioning token ([0-9a-f-]{36}) "Entra ID"/.exec(created.stdout)?.[1];
    const token = /Secret token:\s+(ems_scim_\S+)/.exec(created.stdout)?.[1];
    expect(id, created.stdout).toBeDefined();
    expect(token, created.stdout).toBeDefined();
    const scimUrl = /SCIM URL \(tenant URL\):\s+(\S+)\n/.exec(created.stdout)?.[1];
    expect(scimUrl).toMatch(new RegExp(`^http://(localhost|127\\.0\\.0\\.1):${new URL(env.base).port}/scim/v2$`));
    const expiresAt = /valid until (\S+)\./.exec(created.stdout)?.[1];
    expect(Math.round((Date.parse(expiresAt!) - Date.now()) / 86_400_000)).toBe(30);
    // The client can use both as printed.
    expect((await fetch(`${scimUrl!}/Users?count=1`, { headers: { authorization: `Bearer ${token!}` } })).status).toBe(200);

    const listed = await ems(OPERATOR, 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${id}  active   Entra ID  \\(by ${OPERATOR} .*last used (?!never)`));
    expect(listed.stdout + listed.stderr).not.toContain(token!);
    expect(listed.stdout).not.toContain('ems_scim_');

    const revoked = await ems(OPERATOR, 'revoke', id!);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Provisioning token ${id} "Entra ID" revoked`);
    expect((await scimUsers(token!)).status).toBe(401);
    expect((await ems(OPERATOR, 'list')).stdout).toMatch(new RegExp(`${id}  revoked  Entra ID`));
  });

  it('when someone who is not an operator tries, or the command line is wrong, then it says why, exits non-zero and makes nothing', { timeout: 120_000 }, async () => {
    const before = await stored();
    const refused = await ems(HR_LEAD, 'create', '--name', 'Okta');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^403 Forbidden: Missing permission createProvisioningToken/m);
    expect(refused.stdout).not.toContain('ems_scim_');
    expect((await ems(HR_LEAD, 'list')).code).toBe(1);

    const noName = await ems(OPERATOR, 'create');
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('Usage: ems provisioning-tokens create --name TEXT [--expires-in-days N]');
    const badDays = await ems(OPERATOR, 'create', '--name', 'Okta', '--expires-in-days', 'soon');
    expect(badDays.code).toBe(2);
    expect(badDays.stderr).toContain('--expires-in-days must be a whole number of days (1 to 730), not "soon"');
    const tooLong = await ems(OPERATOR, 'create', '--name', 'Okta', '--expires-in-days', '731');
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^400 /m);
    const unknown = await ems(OPERATOR, 'revoke', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^404 /m);
    expect(await stored()).toBe(before);
  });
});
