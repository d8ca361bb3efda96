/**
 * `ems exit` and `ems mass-exit` against a real EMS (real PostgreSQL, HTTP, Access, Notification; the real `ems`
 * binary with the HR lead's access token in EMS_TOKEN): the progress is printed until the batch settles; a refused
 * CSV line is printed by line and exits 1.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { startAcceptanceEms, tokenFor, HR_LEAD, type AcceptanceEnv } from './acceptance/harness.ts';
import { EMS_BIN } from './support/ems-process.ts';

const execFileAsync = promisify(execFile);
const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
const partners = new Set(org.employees.map((e) => e.hrPartnerId));
const PEOPLE = org.employees.filter((e) => !admins.has(e.id) && !partners.has(e.id));

describe('ems exit and ems mass-exit', () => {
  let env: AcceptanceEnv;
  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'cli_exits');
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  async function ems(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const cliEnv = { ...process.env, EMS_URL: env.base, EMS_TOKEN: await tokenFor(env.base, HR_LEAD), EMS_CREDENTIALS_FILE: '/nonexistent/ems-credentials.json' };
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [EMS_BIN, ...args], { env: cliEnv, timeout: 90_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  it('when HR exits one person from the CLI, then it prints the batch and its progress until settled', { timeout: 120_000 }, async () => {
    const r = await ems('exit', PEOPLE[0]!.id, '--reason', 'misconduct');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Started: batch [0-9a-f-]{36}, 1 person in 1 chunk/);
    expect(r.stdout).toContain('Settled');
    expect(r.stdout).toContain('access suspended 1/1 · notices sent 1/1 · revocations scheduled 1/1 · failed 0');
  });

  it('when a CSV line is refused, then the CLI prints it by line and exits 1', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ems-mass-exit-'));
    const file = path.join(dir, 'people.csv');
    await writeFile(file, `employee_id\n${PEOPLE[1]!.id}\nNOBODY-9\n`);
    const r = await ems('mass-exit', file, '--reason', 'redundancy');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('row 3 (NOBODY-9): no employee with this id');
    const ok = await ems('mass-exit', file.replace('people', 'none'), '--reason', 'redundancy');
    expect(ok.code).toBe(1);
  });
});
