/**
 * `npm run bench:ldap` must not rot: a tiny run (2 cases per mode) of the script itself, as a user starts
 * it, on throwaway databases of the test server and its own slapd. It checks that the report is complete
 * and that every lock was made, verified and refused a bind — never how fast anything was.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { node24 } from '../bench/ems-process.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../bench/ldap.ts');
let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

it('when bench:ldap runs 2 cases per mode, then it exits 0 and its report has both modes with every figure and no error', async () => {
  out = await mkdtemp(path.join(tmpdir(), 'ems-bench-ldap-'));
  const child = spawn(node24(), [SCRIPT], {
    env: { ...process.env, EMS_TEST_DATABASE_URL: inject('testServerUrl'), BENCH_LDAP_CASES: '2', BENCH_LDAP_OUT: out },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, output.slice(-4000)).toBe(0);

  const files = (await readdir(out)).filter((f) => f.endsWith('-ldap.md'));
  expect(files).toHaveLength(1);
  const report = await readFile(path.join(out, files[0]!), 'utf8');
  for (const mode of ['orchestration', 'choreography']) {
    // mode | submission | rows suspended | LDAP locked | ratio | errors = 0
    expect(report).toMatch(new RegExp(`^\\| ${mode} \\| \\d+ / \\d+ \\| \\d+ / \\d+ \\| \\*\\*\\d+ / \\d+\\*\\* \\| [\\d.]+× \\(p95 [\\d.]+×\\) \\| 0 \\|$`, 'm'));
    expect(report).toMatch(new RegExp(`^\\| ${mode} \\| \\d+ / \\d+ \\| \\d+ / \\d+ \\|$`, 'm'));
  }
  expect(report).toMatch(/The LDAP connector alone .*, 2 calls: median [\d.]+ ms, p95 [\d.]+ ms\./);
  expect(report).not.toContain('error (');
}, 240_000);
