/**
 * How an `ems` process starts and stops, as an operator sees it (issue 12, defects 8 and 10): a misspelt
 * setting stops start-up before anything is made; SIGTERM to the EMS node process stops it, and it exits.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { emsProcesses } from './support/ems-process.ts';
import { http } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

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

  it.each(['orchestration', 'choreography'])('when the EMS node process (%s) gets SIGTERM after sending mail, then it stops gracefully and exits with 0', async (mode) => {
    const port = await freePort();
    const ems = await processes.start({ EMS_MODE: mode, EMS_BUS: 'nats', EMS_NATS_PREFIX: `lc${port}`, EMS_DATABASE_URL: db.url, EMS_PORT: String(port), EMS_SMTP_URL: smtp.url, EMS_SECRETS_KEY: TEST_SECRETS_KEY, EMS_LOG_LEVEL: 'info' });
    const base = `http://127.0.0.1:${port}`;
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
