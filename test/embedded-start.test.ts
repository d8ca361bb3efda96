/**
 * The README's promise: `npm start` on a fresh machine runs EMS on embedded PostgreSQL, seeded, and
 * Ctrl-C / SIGTERM stops everything, PostgreSQL included. Run as a real child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, processAlive } from '@ems/platform';
import { requestJson, waitFor } from '@ems/platform/testing';
import { statSync } from 'node:fs';
import { http } from './support/auth.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'packages/server/bin/ems.mjs');

describe('npm start (embedded default)', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it.each(['orchestration', 'choreography'])('when started (%s) with no database configured, then it runs on embedded PostgreSQL with the demo organisation, and SIGTERM stops it all', async (mode) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ems-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, EMS_MODE: mode, EMS_PORT: String(port), EMS_DATA_DIR: dataDir, EMS_LOG_LEVEL: 'warn' };
    delete env.EMS_DATABASE_URL;
    delete env.EMS_SMTP_URL;
    // Exactly the README's command; SIGTERM goes to npm, which must pass it on to EMS.
    const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));

    await waitFor(async () => (output.includes('EMS is up') ? true : undefined), `"EMS is up" in the output:\n${output}`, 60_000);
    expect(output).toContain(`http://localhost:${port}`);
    expect(output).toContain(`mode: ${mode}`);
    // It says how to sign in; nobody anonymous reads anything.
    expect(output).toContain(`sign in: http://localhost:${port}/auth/login (browser) · npx ems login (CLI)`);
    const base = `http://127.0.0.1:${port}`;
    expect((await http(base, 'GET', '/readyz')).status).toBe(200);
    expect((await requestJson(base, 'GET', '/api/employees')).status).toBe(401);
    // The installation's secrets key was made on first start, readable by its owner only.
    expect(statSync(path.join(dataDir, 'secrets.key')).mode & 0o777).toBe(0o600);
    const employees = await http<{ items: unknown[]; nextOffset: number | null }>(base, 'GET', '/api/employees?limit=500');
    expect(employees.status, JSON.stringify(employees.body)).toBe(200);
    expect(employees.body.items.length).toBeGreaterThanOrEqual(50);
    const openapi = await http<{ openapi: string; paths: Record<string, unknown> }>(base, 'GET', '/openapi.json');
    expect(openapi.body.openapi).toMatch(/^3\.1/);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/resignations', '/api/resignations/{id}', '/api/employees/{id}/access']));

    const res = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: 'E1010' });
    expect(res.status).toBe(201);
    const done = await waitFor(async () => {
      const c = await http<{ status: string }>(base, 'GET', `/api/resignations/${res.body.id}`);
      return c.body.status === 'awaiting_decision' ? c.body : undefined;
    }, 'the case to complete');
    expect(done.status).toBe('awaiting_decision');
    // The manager notice and both invites, delivered to the built-in capture server (invites may trail the case by a moment).
    const emails = await waitFor(async () => {
      const r = await http<{ items: Array<{ status: string; messageId: string | null }> }>(base, 'GET', `/api/emails?resignationId=${res.body.id}`);
      return r.body.items.length === 3 && r.body.items.every((e) => e.status === 'sent') ? r.body.items : undefined;
    }, 'three emails sent');
    expect(emails.every((e) => e.messageId)).toBe(true);

    // `ems migrate` beside a running `ems start` reaches its database over that private socket.
    const migrated = await promisify(execFile)(process.execPath, [BIN, 'migrate'], { env, timeout: 60_000 });
    expect(migrated.stdout).toMatch(/access\s+up to date/);

    // The database is locked down: a socket in a directory only its owner enters, no TCP listener, passwords
    // (SCRAM) only; the superuser's password in a 0600 file, never printed.
    expect(statSync(path.join(dataDir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'password')).mode & 0o777).toBe(0o600);
    expect(output).not.toContain(readFileSync(path.join(dataDir, 'password'), 'utf8').trim());
    const hba = readFileSync(path.join(dataDir, 'pg', 'pg_hba.conf'), 'utf8').split('\n').filter((l) => /^\s*(local|host)/.test(l));
    expect(hba).toEqual(['local all all scram-sha-256']);
    expect(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[5]?.trim() ?? '').toBe(''); // listen address: none

    const pgPid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(processAlive(pgPid)).toBe(true);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(processAlive(pgPid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  }, 120_000);

  // Root only: PostgreSQL refuses to run as root, so EMS runs it as `postgres`; a normal user's PostgreSQL
  // runs as that user, who can always enter their own data directory — the situation cannot arise.
  it.skipIf(process.getuid?.() !== 0)('when run as root with its data directory below a directory the postgres user cannot enter, then start-up stops at once saying what to do, nothing half-made', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'ems-root-home-')); // 0700, owned by root: like /root
    dirs.push(home);
    const dataDir = path.join(home, 'ems', '.ems-data');
    const env: NodeJS.ProcessEnv = { ...process.env, EMS_PORT: String(await freePort()), EMS_DATA_DIR: dataDir, EMS_LOG_LEVEL: 'warn' };
    delete env.EMS_DATABASE_URL;
    const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, output).toBe(78);
    expect(output).toContain(`EMS_DATA_DIR (${dataDir})`);
    expect(output).toContain(`cannot enter ${home} (mode 0700`);
    expect(output).toMatch(/Set EMS_DATA_DIR to a directory outside it/);
    expect(output).not.toMatch(/initdb|Permission denied|\n\s+at /);
    expect(existsSync(path.join(dataDir, 'pg'))).toBe(false);
  }, 60_000);

  it('when the configuration is invalid, then start-up stops with a message naming the key', async () => {
    // Started with the machine's `node` on purpose (it may be older): the entry point must re-run itself on Node 24.
    const machineNode = existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;
    const child = spawn(machineNode, [BIN, 'start'], { env: { ...process.env, EMS_PORT: 'seventy' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(stderr).toContain('EMS_PORT');
  });
});

