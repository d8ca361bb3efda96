import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { createPool, type Pool } from '@ems/platform';
import { recordStatements } from '../../../test/support/recording-pool.ts';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { bootService, EMPLOYEES, freePort, getEmail, managerNotice, openCase, openDatabase, postEmail, waitFor, type RunningService } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let pool: Pool;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await openDatabase();
  pool = database.pool;
});

afterEach(async () => {
  // Services first (they wait for their in-flight sends), then the SMTP servers they talk to.
  while (cleanup.length) await cleanup.pop()!();
  // Each test starts with an empty outbox, so one test's dispatcher never delivers another's emails.
  await pool.query('TRUNCATE notification.emails');
});

afterAll(async () => {
  await database?.close();
});

async function boot(
  deps: Parameters<typeof bootService>[1],
  options?: Parameters<typeof bootService>[2],
  env: Partial<Pick<typeof database, 'pool'>> = {},
): Promise<RunningService> {
  const svc = await bootService({ ...database, ...env }, deps, options);
  cleanup.push(() => svc.close());
  return svc;
}

async function capture(port?: number): Promise<CaptureSmtpServer> {
  const server = await startCaptureSmtpServer(port === undefined ? {} : { port });
  cleanup.unshift(() => server.stop());
  return server;
}

/** A real SMTP server with custom behaviour (for rejecting or slow servers). */
async function smtpServer(options: ConstructorParameters<typeof SMTPServer>[0]): Promise<{ url: string }> {
  const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return { url: `smtp://127.0.0.1:${address.port}` };
}

describe('delivery retries', () => {
  it('when the SMTP server is down at first and comes up later, then the email is retried with backoff and sent exactly once', async () => {
    const port = await freePort();
    const svc = await boot({ smtpUrl: `smtp://127.0.0.1:${port}`, retryBaseMs: 300, dispatchIntervalMs: 50 });

    const res = await postEmail(svc, managerNotice());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'queued', attempts: 1, sentAt: null });
    expect(res.body.lastError).toMatch(/ECONNREFUSED|ECONNECTION/);

    const { rows } = await pool.query<{ next_attempt_at: Date; created_at: Date }>('SELECT next_attempt_at, created_at FROM notification.emails WHERE id = $1', [res.body.id]);
    const waitMs = rows[0]!.next_attempt_at.getTime() - rows[0]!.created_at.getTime();
    expect(waitMs).toBeGreaterThanOrEqual(240); // 300 ms ± 20 % jitter

    // Let at least one more attempt fail, then bring the server up on the same port. An attempt is counted when it is
    // claimed, before it connects: wait until the second one has ended (its claim released, still queued), or it could
    // connect to the server brought up below and be the one that sends.
    await waitFor('a second failed attempt', async () => {
      const { rows: [row] } = await pool.query<{ attempts: number; status: string; claim_token: string | null }>('SELECT attempts, status, claim_token FROM notification.emails WHERE id = $1', [res.body.id]);
      return row && row.attempts >= 2 && row.status === 'queued' && row.claim_token === null ? true : undefined;
    });
    const smtp = await capture(port);

    const sent = await waitFor('the email to be sent', async () => {
      const e = (await getEmail(svc, res.body.id)).body;
      return e.status === 'sent' ? e : undefined;
    });
    expect(sent.attempts).toBeGreaterThan(2);
    expect(sent.lastError).toBeNull();
    // Barrier: a dispatcher round that began after the send has ended — a duplicate would have gone out in it.
    await svc.service.dispatcher.drained();
    expect(smtp.messages().filter((m) => m.messageId === res.body.messageId)).toHaveLength(1);
    expect(smtp.messages()).toHaveLength(1);
  });

  it('when the SMTP server rejects the recipient permanently, then the email is failed after maxAttempts with the last error', async () => {
    let rcptAttempts = 0;
    const smtp = await smtpServer({
      onRcptTo(_address, _session, callback) {
        rcptAttempts++;
        const err = Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 });
        callback(err);
      },
    });
    const svc = await boot({ smtpUrl: smtp.url, maxAttempts: 3, retryBaseMs: 20, dispatchIntervalMs: 20 });

    const res = await postEmail(svc, managerNotice());
    expect(res.status).toBe(201);
    const failed = await waitFor('the email to fail', async () => {
      const e = (await getEmail(svc, res.body.id)).body;
      return e.status === 'failed' ? e : undefined;
    });
    expect(failed.attempts).toBe(3);
    expect(failed.sentAt).toBeNull();
    expect(failed.lastError).toMatch(/550/);
    expect(failed.lastError).toContain('No such user here');
    await svc.service.dispatcher.drained();
    expect(rcptAttempts).toBe(3);
  });

  it('when two dispatchers share the outbox, then each queued email is sent exactly once', async () => {
    const port = await freePort();
    const deps = { smtpUrl: `smtp://127.0.0.1:${port}`, retryBaseMs: 150, dispatchIntervalMs: 10 };
    const a = await boot(deps);
    const b = await boot(deps);

    // With the SMTP server down, every POST leaves its email queued for the dispatchers: 20 cases of 20 employees.
    const notices = EMPLOYEES.slice(0, 20).map((employee) => managerNotice(openCase(employee)));
    const emails = await Promise.all(notices.map((notice, i) => postEmail(i % 2 ? a : b, notice)));
    expect(emails.every((e) => e.status === 201 && e.body.status === 'queued')).toBe(true);

    const smtp = await capture(port);
    await waitFor('all emails to be sent', async () => {
      const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM notification.emails WHERE status <> 'sent'");
      return rows[0]!.n === 0 ? true : undefined;
    }, 20_000);
    await Promise.all([a.service.dispatcher.drained(), b.service.dispatcher.drained()]);

    const ids = smtp.messages().map((m) => m.messageId);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    expect(new Set(ids)).toEqual(new Set(emails.map((e) => e.body.messageId)));
  });
});

describe('shutdown', () => {
  it('when stop() is called while a slow send is in flight, then it waits for the send to finish and be recorded', async () => {
    let release: (() => void) | undefined;
    const smtp = await smtpServer({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          release = () => callback();
          setTimeout(() => release?.(), 500);
        });
      },
    });
    const svc = await boot({ smtpUrl: smtp.url, fastPathTimeoutMs: 50 });

    const res = await postEmail(svc, managerNotice());
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('queued'); // the answer came before the slow server accepted

    await svc.close();
    const { rows } = await pool.query<{ status: string; claim_token: string | null }>('SELECT status, claim_token FROM notification.emails WHERE id = $1', [res.body.id]);
    expect(rows[0]).toEqual({ status: 'sent', claim_token: null });
  });
});

describe('Prefer: wait', () => {
  /** Accepts every message `delayMs` after its data ended; counts them. */
  async function slowServer(delayMs: number) {
    let accepted = 0;
    const server = await smtpServer({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          setTimeout(() => {
            accepted++;
            callback();
          }, delayMs);
        });
      },
    });
    return { ...server, accepted: () => accepted };
  }

  it('when a caller asks to wait longer than the fast path, then the answer comes after the slow server accepted: sent, on one attempt', async () => {
    const smtp = await slowServer(400);
    const svc = await boot({ smtpUrl: smtp.url, fastPathTimeoutMs: 50 });

    const plain = await postEmail(svc, managerNotice());
    expect(plain.body.status).toBe('queued'); // the fast path's 50 ms ended first

    const waited = await postEmail(svc, managerNotice(), { prefer: 'wait=10' });
    expect(waited.status).toBe(201);
    expect(waited.body).toMatchObject({ status: 'sent', attempts: 1 });
    expect(waited.body.sentAt).not.toBeNull();
  });

  it('when a caller asks not to wait (Prefer: wait=0), then the answer is the email as stored, read back by nothing, and the email is sent after it', async () => {
    const smtp = await slowServer(400);
    // Its own pool, every statement recorded from its first connection.
    const recorded = createPool(database.db.url, { max: 4, name: 'notification-wait0-test' });
    const sent: string[] = [];
    recordStatements(recorded, sent);
    cleanup.unshift(() => recorded.end());
    const svc = await boot({ smtpUrl: smtp.url }, undefined, { pool: recorded });

    const from = sent.length;
    const res = await postEmail(svc, managerNotice(), { prefer: 'wait=0' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'queued', sentAt: null });
    expect(smtp.accepted()).toBe(0); // answered before the server accepted it
    const readBack = sent.slice(from).filter((t) => /^select \* from "notification"\."emails" where "id" = \$1/i.test(t.trim()));
    expect(readBack).toEqual([]);
    await waitFor('the email sent after the answer', async () => ((await getEmail(svc, res.body.id)).body.status === 'sent' ? true : undefined));
    expect(smtp.accepted()).toBe(1);
  });

  it('when a repeat of a queued email asks to wait, then it waits for that delivery and sends nothing more', async () => {
    const smtp = await slowServer(400);
    const svc = await boot({ smtpUrl: smtp.url, fastPathTimeoutMs: 50 });
    const notice = managerNotice();

    const first = await postEmail(svc, notice, { 'idempotency-key': `k-${notice.resignationId}` });
    expect(first.body.status).toBe('queued');
    const repeat = await postEmail(svc, notice, { 'idempotency-key': `k-${notice.resignationId}`, prefer: 'respond-async, wait=10' });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ id: first.body.id, status: 'sent', attempts: 1 });
    await svc.service.dispatcher.drained();
    expect(smtp.accepted()).toBe(1);
  });

  it('when the SMTP server is down, then a caller that asked to wait is answered at once: queued, with the error', async () => {
    const port = await freePort();
    const svc = await boot({ smtpUrl: `smtp://127.0.0.1:${port}`, retryBaseMs: 60_000 });
    const started = Date.now();
    const res = await postEmail(svc, managerNotice(), { prefer: 'wait=30' });
    expect(res.body).toMatchObject({ status: 'queued', attempts: 1 });
    expect(res.body.lastError).toMatch(/ECONNREFUSED|ECONNECTION/);
    expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s asked for
  });
});

describe('pooled SMTP connections', () => {
  /** A server that counts the messages each connection delivered, and the connections it saw. */
  async function countingServer(options: ConstructorParameters<typeof SMTPServer>[0] = {}) {
    const perConnection = new Map<string, number>();
    const server = await smtpServer({
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          perConnection.set(session.id, (perConnection.get(session.id) ?? 0) + 1);
          callback();
        });
      },
      ...options,
    });
    return { ...server, perConnection, messages: () => [...perConnection.values()].reduce((a, b) => a + b, 0) };
  }

  it('when emails are sent one after another, then they share a connection instead of opening one each', async () => {
    const smtp = await countingServer();
    const svc = await boot({ smtpUrl: smtp.url });
    for (let i = 0; i < 5; i++) {
      const res = await postEmail(svc, managerNotice());
      expect(res.body).toMatchObject({ status: 'sent', attempts: 1 });
    }
    expect(smtp.messages()).toBe(5);
    expect(smtp.perConnection.size).toBeLessThan(5);
  });

  it('when the server closes a pooled connection as the next email starts (421), then that email goes out once over a fresh connection, on its first attempt', async () => {
    const delivered = new Map<string, number>();
    const smtp = await countingServer({
      onMailFrom(_address, session, callback) {
        // A connection that already carried a message is closed, as a server restarting or timing it out would.
        if ((delivered.get(session.id) ?? 0) > 0) return callback(Object.assign(new Error('4.4.2 closing connection'), { responseCode: 421 }));
        callback();
      },
      onRcptTo(_address, session, callback) {
        delivered.set(session.id, (delivered.get(session.id) ?? 0) + 1);
        callback();
      },
    });
    const svc = await boot({ smtpUrl: smtp.url });

    const first = await postEmail(svc, managerNotice());
    expect(first.body).toMatchObject({ status: 'sent', attempts: 1 });
    const second = await postEmail(svc, managerNotice());
    expect(second.body).toMatchObject({ status: 'sent', attempts: 1, lastError: null });

    await svc.service.dispatcher.drained();
    expect(smtp.messages()).toBe(2);
    expect(smtp.perConnection.size).toBe(2);
  });

  it('when the server drops idle connections between two emails, then the second is still sent once, on its first attempt', async () => {
    // smtp-server closes a connection idle for this long with "421 Timeout", before our pool's idle timeout.
    const smtp = await countingServer({ socketTimeout: 150 });
    const svc = await boot({ smtpUrl: smtp.url });

    // Prefer: wait — the answer waits for the delivery itself (the default 3 s fast path can run out on a loaded machine).
    const first = await postEmail(svc, managerNotice(), { prefer: 'wait=20' });
    expect(first.body).toMatchObject({ status: 'sent', attempts: 1 });
    await sleep(500);
    const second = await postEmail(svc, managerNotice(), { prefer: 'wait=20' });
    expect(second.body).toMatchObject({ status: 'sent', attempts: 1, lastError: null });

    await svc.service.dispatcher.drained();
    expect(smtp.messages()).toBe(2);
  });
});
