/**
 * The CLI signs in with the OAuth device authorization grant (RFC 8628) against the built-in provider:
 * `ems login` prints a URL and a code, a person confirms it in a "browser" (HTTP here), the CLI saves the
 * sign-in in a file only its owner can read, refreshes it, and `ems logout` revokes it. Operators make API
 * tokens for automation with the CLI.
 */
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmDeviceCode } from '@ems/identity/testing';
import { waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { OPERATOR } from './support/auth.ts';
import { EMS_BIN } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);

describe('ems login', () => {
  let env: AcceptanceEnv;
  let dir: string;
  let credentials: string;
  const cliEnv = () => ({ ...process.env, EMS_URL: env.base, EMS_CREDENTIALS_FILE: credentials, EMS_TOKEN: '' });
  const ems = (...args: string[]) => execFileAsync(process.execPath, [EMS_BIN, ...args], { env: cliEnv(), timeout: 60_000 });

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'cli_login');
    dir = await mkdtemp(path.join(tmpdir(), 'ems-cli-'));
    credentials = path.join(dir, 'config', 'ems', 'credentials.json');
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs `ems login` and confirms its code as `person` the way a browser would. */
  async function login(person: string): Promise<string> {
    const child = spawn(process.execPath, [EMS_BIN, 'login'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const url = await waitFor(() => /https?:\/\/\S+user_code=\S+/.exec(out)?.[0], `ems login to print its URL:\n${out}`);
    const code = /code ([A-Z]{4}-[A-Z]{4})/.exec(out)?.[1];
    expect(url).toContain(encodeURIComponent(code!).replace('%2D', '-'));
    await confirmDeviceCode(env.base, url, person);
    expect(await exited, out).toBe(0);
    return out;
  }

  it('when a person confirms the code in their browser, then the CLI is signed in as them, saved in a file only they can read', async () => {
    const out = await login(OPERATOR);
    expect(out).toMatch(/Signed in as .* \(E1013\) — roles: employee, operator/);
    const mode = (await stat(credentials)).mode & 0o777;
    expect(mode).toBe(0o600);
    expect((await stat(path.dirname(credentials))).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(credentials, 'utf8')) as Record<string, { refreshToken: string | null }>;
    expect(saved[env.base]?.refreshToken).toBeTruthy();
    expect((await ems('whoami')).stdout).toContain('(E1013)');
  });

  it('when the saved access token has expired, then the CLI refreshes it with the provider and goes on', async () => {
    const saved = JSON.parse(await readFile(credentials, 'utf8')) as Record<string, { accessToken: string; expiresAt: number }>;
    const before = saved[env.base]!.accessToken;
    // Mark it expired (the file is the CLI's own; a real token ages the same way).
    saved[env.base]!.expiresAt = Date.now() - 1000;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(credentials, JSON.stringify(saved), { mode: 0o600 });
    expect((await ems('whoami')).stdout).toContain('(E1013)');
    const after = (JSON.parse(await readFile(credentials, 'utf8')) as Record<string, { accessToken: string }>)[env.base]!.accessToken;
    expect(after).not.toBe(before);
  });

  it('when an operator makes an API token with the CLI, then it is printed once and works for automation (EMS_TOKEN)', async () => {
    const created = await ems('tokens', 'create', '--name', 'nightly', '--person', 'hr-lead');
    const token = /^(ems_pat_\S+)$/m.exec(created.stdout)![1]!;
    const asToken = await execFileAsync(process.execPath, [EMS_BIN, 'whoami'], { env: { ...process.env, EMS_URL: env.base, EMS_TOKEN: token }, timeout: 60_000 });
    expect(asToken.stdout).toContain('(hr-lead)');
    expect(asToken.stdout).toContain('via api-token');
    expect((await ems('tokens', 'list')).stdout).not.toContain(token);
  });

  it('when the credentials file is readable by others, then the CLI refuses it and says how to fix it', async () => {
    await chmod(credentials, 0o644);
    try {
      const refused = await ems('whoami').catch((err: { code: number; stderr: string }) => err);
      expect(refused).toMatchObject({ code: 1 });
      expect((refused as { stderr: string }).stderr).toMatch(/readable by others.*chmod 600/);
    } finally {
      await chmod(credentials, 0o600);
    }
  });

  it('when the person logs out, then the saved sign-in is gone and its refresh token is revoked at the provider', async () => {
    const saved = (JSON.parse(await readFile(credentials, 'utf8')) as Record<string, { refreshToken: string }>)[env.base]!;
    expect((await ems('logout')).stdout).toContain('Signed out');
    const after = JSON.parse(await readFile(credentials, 'utf8')) as Record<string, unknown>;
    expect(after[env.base]).toBeUndefined();
    const refresh = await fetch(`${env.base}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved.refreshToken, client_id: 'ems-cli' }).toString(),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    const notSignedIn = await ems('whoami').catch((err: { stderr: string }) => err);
    expect((notSignedIn).stderr).toContain('ems login');
  });
});
