/**
 * What `ems start` prints is read by people and collected by log systems: it never holds a secret — not the
 * SMTP URL's credentials, not the secrets key (issue 12, defect 11).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, freePort } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import { emsProcesses } from './support/ems-process.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

describe('the start-up output', () => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  const processes = emsProcesses();
  beforeAll(async () => {
    db = await createTestDatabase(inject('testServerUrl'), 'startup_out');
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    processes.killAll();
    await smtp?.stop();
    await db?.drop();
  });

  it('when the SMTP URL carries credentials, then start-up names the mail server but never prints them', async () => {
    const port = new URL(smtp.url).port;
    // A function: a port taken between picking and binding it is picked again.
    const ems = await processes.start(async () => ({
      EMS_DATABASE_URL: db.url,
      EMS_PORT: String(await freePort()),
      EMS_SMTP_URL: `smtp://mailer-user:s3cret-smtp-pass@127.0.0.1:${port}`,
      EMS_SECRETS_KEY: TEST_SECRETS_KEY,
      EMS_LOG_LEVEL: 'info',
    }));
    const out = ems.output();
    expect(out).toContain(`mail: sent through smtp://127.0.0.1:${port}`);
    expect(out).not.toContain('s3cret-smtp-pass');
    expect(out).not.toContain('mailer-user');
    expect(out).not.toContain(TEST_SECRETS_KEY);
    expect(out).not.toContain('does not resume them');
    await ems.stop();
  });

  it('when workflows begun under an earlier version of the workflows are still running, then start-up warns how many wait unresumed, and under which version', async () => {
    // The database the test above started (orchestration, the default): two cases' workflows left running by
    // a release whose step sequence differed and whose calls this one cannot replay (v4: not taken over, as v5's
    // are — workflow-upgrade.test.ts), one finished (nothing waits for it).
    const pool = createPool(db.url, { max: 1 });
    try {
      await pool.query(
        `INSERT INTO dbos.workflow_status (workflow_uuid, status, name, application_version, executor_id)
         VALUES ('v4-waiting-1', 'PENDING', 'resignation', 'resignation-v4', 'local'),
                ('v4-waiting-2', 'PENDING', 'resignation', 'resignation-v4', 'local'),
                ('v4-finished', 'SUCCESS', 'resignation', 'resignation-v4', 'local')`,
      );
    } finally {
      await pool.end();
    }
    const ems = await processes.start(async () => ({
      EMS_DATABASE_URL: db.url,
      EMS_PORT: String(await freePort()),
      EMS_SMTP_URL: smtp.url,
      EMS_SECRETS_KEY: TEST_SECRETS_KEY,
      EMS_LOG_LEVEL: 'info',
    }));
    expect(ems.output()).toContain('2 running workflow(s) begun under version resignation-v4 wait: this version (resignation-v7) does not resume them');
    await ems.stop();
  });
});
