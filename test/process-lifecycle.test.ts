/**
 * How an `ems` process starts and stops, as an operator sees it (issue 12, defects 8 and 10): a misspelt
 * setting stops start-up before anything is made; SIGTERM to the EMS node process stops it, and it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer } from 'node:net';
import { freePort, processAlive } from '@ems/platform';
import { createTestDatabase, freePortRange, waitFor, type TestDatabase } from '@ems/platform/testing';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { emsProcesses } from './support/ems-process.ts';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('an ems process', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const processes = emsProcesses();
  const dirs: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'lifecycle');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('when an EMS_* variable is misspelt, then start-up stops at once naming the setting meant, and nothing is started', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'ems-typo-'));
    await chmod(parent, 0o755); // enterable by the postgres user: only the misspelt setting may stop this start
    dirs.push(parent);
    const dataDir = path.join(parent, 'data');
    const ems = await processes.start({ EMS_DATA_DIR: dataDir, EMS_DATABASE_URL: '', EMS_PORT: String(await freePort()), EMS_SMPT_URL: 'smtp://mail.example.com:587', EMS_LOG_LEVEL: 'info' }, { readyText: null });
    // It exits — or, were the setting ignored, comes up (and fails below).
    await waitFor(() => (ems.child.exitCode !== null || ems.output().includes('EMS is up') ? true : undefined), 'ems to exit', 60_000);
    expect(ems.child.exitCode, ems.output()).toBe(78);
    expect(ems.output()).toContain('EMS_SMPT_URL is not a setting EMS knows — did you mean EMS_SMTP_URL?');
    // It never listened, never made its embedded database.
    expect(ems.output()).not.toContain('EMS is up');
    expect(ems.output()).not.toMatch(/listening/i);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('when the port picked for it is taken before it binds it, then it is started again on a new port', async () => {
    const squatter = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(taken, '127.0.0.1', resolve));
    try {
      const picked: number[] = [];
      const ems = await processes.start(async () => {
        // The first pick is the one another program took in between; later picks are free.
        const port = picked.length === 0 ? taken : await freePort();
        picked.push(port);
        return { EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SMTP_URL: smtp.url, EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_LOG_LEVEL: 'warn' };
      });
      expect(picked).toHaveLength(2);
      expect(ems.env.EMS_PORT).toBe(String(picked[1]));
      expect((await http(`http://127.0.0.1:${picked[1]}`, 'GET', '/healthz')).status).toBe(200);
      expect(await ems.stop()).toBe(0);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 120_000);

  it.each(['orchestration', 'choreography'])('when the EMS node process (%s) gets SIGTERM after sending mail, then it stops gracefully and exits with 0', async (mode) => {
    // A port picked now may be taken before the child binds it (another suite on the machine): start retries with a new one.
    const ems = await processes.start(async () => {
      const port = await freePortRange(8);
      return { EMS_MODE: mode, EMS_BUS: 'nats', EMS_NATS_PREFIX: `lc${port}`, EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SMTP_URL: smtp.url, EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_LOG_LEVEL: 'info' };
    });
    const base = `http://127.0.0.1:${ems.env.EMS_PORT}`;
    // Real work first: a resignation whose emails go to a real SMTP server over pooled connections.
    const res = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: mode === 'orchestration' ? 'E1010' : 'E1011' });
    expect(res.status).toBe(201);
    await waitFor(async () => {
      const r = await http<{ items: Array<{ status: string }> }>(base, 'GET', `/api/emails?resignationId=${res.body.id}`);
      return r.body.items.length === 3 && r.body.items.every((e) => e.status === 'sent') ? true : undefined;
    }, 'three emails sent', 60_000);

    // The process that runs EMS itself (a Node 24 child of the ems.mjs wrapper when this Node is older).
    expect(await ems.stop()).toBe(0);
    expect(ems.output()).toContain('EMS stopped.');
  }, 120_000);
});

describe('ems start --fleet', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const processes = emsProcesses();
  const children: ChildProcess[] = [];
  const memberPids: number[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'fleet_life');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    processes.killAll();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const pid of memberPids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    await smtp?.stop();
    await db?.drop();
  });

  it('when a port after EMS_PORT is taken, then the fleet stops at once naming it, and starts nothing', async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(port + 2, '127.0.0.1', resolve));
    try {
      const fleet = await processes.start({ EMS_PORT: String(port), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, ...TEST_AUTH_ENV }, { args: ['start', '--fleet'], readyText: null });
      await waitFor(() => (fleet.child.exitCode !== null || fleet.output().includes('fleet is up') ? true : undefined), 'the fleet to exit', 120_000);
      expect(fleet.child.exitCode, fleet.output()).toBe(1);
      expect(fleet.output()).toContain(`port ${port + 2} on 127.0.0.1 (for ems-1) is in use by another program`);
      expect(fleet.output()).toContain(`set EMS_PORT to the first of`);
      expect(fleet.output()).not.toMatch(/\n\s+at |ready on port/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('when started with npx, then only the launcher prints a banner, and SIGTERM to npx stops every member and the launcher', async () => {
    const port = await freePortRange(8);
    const env: NodeJS.ProcessEnv = { ...process.env, EMS_PORT: String(port), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, EMS_LOG_LEVEL: 'warn', ...TEST_AUTH_ENV };
    // Exactly what a user types. npx runs `ems` under a shell: a signal to npx kills npx and that shell, never
    // reaching the launcher (which must notice it is orphaned).
    const child = spawn('npx', ['ems', 'start', '--fleet'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    await waitFor(() => (output.includes('EMS fleet is up') ? true : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined), `the fleet to be up:\n${output}`, 180_000);

    // One banner, whose advice goes through the gateway; each member says only that it is ready.
    expect(output.match(/ is up: /g), output).toHaveLength(1);
    expect(output).toContain(`EMS fleet is up: http://localhost:${port}`);
    expect(output).toContain(`EMS_URL=http://127.0.0.1:${port} npx ems login`);
    const ready = [...output.matchAll(/service (\w+) ready on port (\d+) \(pid (\d+)\)/g)];
    expect(ready.map((m) => m[1]).sort()).toEqual(['access', 'ems', 'hr', 'identity', 'notification', 'webhooks']);
    memberPids.push(...ready.map((m) => Number(m[3])));
    for (const pid of memberPids) expect(processAlive(pid)).toBe(true);
    expect((await http(`http://127.0.0.1:${port}`, 'GET', '/api/employees?limit=1')).status).toBe(200);

    child.kill('SIGTERM');
    await closed; // npx, and the launcher holding the same output, are gone
    expect(output).toContain('EMS fleet stopped.');
    for (const pid of memberPids) expect(processAlive(pid), `member ${pid} still running`).toBe(false);
  }, 300_000);

  it('when started with npx and Ctrl-C is pressed (SIGINT to the process group), then every member and the launcher stop', async () => {
    const port = await freePortRange(8);
    const env: NodeJS.ProcessEnv = { ...process.env, EMS_PORT: String(port), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, EMS_LOG_LEVEL: 'warn', ...TEST_AUTH_ENV };
    // Its own process group, as a terminal's foreground job has.
    const child = spawn('npx', ['ems', 'start', '--fleet'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await waitFor(() => (output.includes('EMS fleet is up') ? true : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined), `the fleet to be up:\n${output}`, 180_000);
    const pids = [...output.matchAll(/ready on port \d+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    memberPids.push(...pids);
    expect(pids).toHaveLength(6);
    process.kill(-child.pid!, 'SIGINT');
    await closed;
    expect(output).toContain('EMS fleet stopped.');
    for (const pid of pids) expect(processAlive(pid), `member ${pid} still running`).toBe(false);
  }, 300_000);

  it('when the launcher gets SIGINT, then it stops every member and exits with 0', async () => {
    const fleet = await processes.start(async () => ({ EMS_PORT: String(await freePortRange(8)), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, EMS_LOG_LEVEL: 'warn', ...TEST_AUTH_ENV }), { args: ['start', '--fleet'], readyText: 'EMS fleet is up', timeoutMs: 180_000 });
    const pids = [...fleet.output().matchAll(/ready on port \d+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    memberPids.push(...pids);
    expect(pids).toHaveLength(6);
    const exited = new Promise<number | null>((resolve) => fleet.child.once('exit', (code) => resolve(code)));
    fleet.child.kill('SIGINT');
    expect(await exited, fleet.output()).toBe(0);
    for (const pid of pids) expect(processAlive(pid), `member ${pid} still running`).toBe(false);
  }, 300_000);

  it('when the launcher dies without a word (kill -9), then its members stop by themselves', async () => {
    const fleet = await processes.start(async () => ({ EMS_PORT: String(await freePortRange(8)), EMS_DATABASE_URL: db.url, EMS_SMTP_URL: smtp.url, EMS_LOG_LEVEL: 'warn', ...TEST_AUTH_ENV }), { args: ['start', '--fleet'], readyText: 'EMS fleet is up', timeoutMs: 180_000 });
    const pids = [...fleet.output().matchAll(/ready on port \d+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    memberPids.push(...pids);
    expect(pids).toHaveLength(6);
    await fleet.kill();
    await waitFor(() => (pids.every((pid) => !processAlive(pid)) ? true : undefined), 'every member to stop', 60_000);
  }, 300_000);
});
