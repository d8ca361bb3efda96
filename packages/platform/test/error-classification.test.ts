import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { z } from 'zod';
import { callJson, classifyError, describeError, freePort, HttpProblem, PermanentError, storableText } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';

/**
 * The classification meets errors as the real components raise them: PostgreSQL answering a bad
 * statement, a refused connection, fetch against a closed port, a participant answering 4xx/5xx.
 */

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase(inject('testServerUrl'), 'errors');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('CREATE TABLE people (id text PRIMARY KEY, name text NOT NULL CHECK (length(name) < 10), doc jsonb)');
  await client.query(`INSERT INTO people (id, name) VALUES ('p1', 'Ann')`);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('when PostgreSQL refuses what it was given, then retrying cannot cure it', () => {
  it('a NUL byte in a text parameter (22021) is permanent', async () => {
    const err = await rejection(client.query('INSERT INTO people (id, name) VALUES ($1, $2)', ['p2', 'a\u0000b']));
    expect(err).toMatchObject({ code: '22021' });
    expect(classifyError(err)).toBe('permanent');
  });

  it('a NUL escape in JSON stored as jsonb (22P05) is permanent', async () => {
    const err = await rejection(client.query('INSERT INTO people (id, name, doc) VALUES ($1, $2, $3::jsonb)', ['p3', 'Bo', JSON.stringify({ note: 'x\u0000y' })]));
    expect(err).toMatchObject({ code: '22P05' });
    expect(classifyError(err)).toBe('permanent');
  });

  it('a duplicate key (23505), a NOT NULL (23502) and a CHECK (23514) violation are permanent', async () => {
    const errors = [
      await rejection(client.query(`INSERT INTO people (id, name) VALUES ('p1', 'Ann')`)),
      await rejection(client.query(`INSERT INTO people (id, name) VALUES ('p4', NULL)`)),
      await rejection(client.query(`INSERT INTO people (id, name) VALUES ('p5', 'a name far too long')`)),
    ];
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['23505', '23502', '23514']);
    expect(errors.map(classifyError)).toEqual(['permanent', 'permanent', 'permanent']);
  });

  it('an invalid date (22007/22008) is permanent', async () => {
    const err = await rejection(client.query(`SELECT '2026-02-30'::date`));
    expect((err as { code?: string }).code).toMatch(/^220/);
    expect(classifyError(err)).toBe('permanent');
  });
});

describe('when PostgreSQL was busy, gone or lost a race, then it is worth trying again', () => {
  it('a statement cancelled by its timeout (57014) is transient', async () => {
    const err = await rejection(client.query(`SET statement_timeout = '50ms'; SELECT pg_sleep(5)`));
    await client.query('RESET statement_timeout');
    expect(err).toMatchObject({ code: '57014' });
    expect(classifyError(err)).toBe('transient');
  });

  it('a serialization failure between two SERIALIZABLE transactions (40001) is transient', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await client.query(`INSERT INTO people (id, name) VALUES ('s1', 'x'), ('s2', 'y')`);
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await other.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      await client.query(`SELECT name FROM people WHERE id = 's1'`);
      await other.query(`SELECT name FROM people WHERE id = 's2'`);
      await client.query(`UPDATE people SET name = 'x2' WHERE id = 's2'`);
      await other.query(`UPDATE people SET name = 'y2' WHERE id = 's1'`);
      await client.query('COMMIT');
      const err = await rejection(other.query('COMMIT'));
      expect(err).toMatchObject({ code: '40001' });
      expect(classifyError(err)).toBe('transient');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
  });

  it('a terminated session (57P01) and a refused connection (ECONNREFUSED) are transient', async () => {
    const victim = new pg.Client({ connectionString: db.url });
    await victim.connect();
    victim.on('error', () => undefined);
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pending = rejection(victim.query('SELECT pg_sleep(30)'));
    // Wait until the victim's statement is running, then terminate its backend.
    for (;;) {
      const { rows: active } = await client.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [rows[0]!.pid]);
      if (active.length) break;
    }
    await client.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    const terminated = await pending;
    expect(terminated).toMatchObject({ code: '57P01' });
    expect(classifyError(terminated)).toBe('transient');

    const port = await freePort();
    const refused = await rejection(new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' }).connect());
    expect(classifyError(refused)).toBe('transient');
  });
});

describe('calls to another service', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const status = Number(req.url?.slice(1));
      res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status, detail: `answered ${status}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('when a participant answers 4xx, then it is permanent — except 408 and 429', async () => {
    const statuses = [400, 404, 409, 422, 408, 429, 500, 502, 503];
    const classes = await Promise.all(statuses.map(async (s) => classifyError(await rejection(callJson(`${base}/${s}`, { body: {} })))));
    expect(Object.fromEntries(statuses.map((s, i) => [s, classes[i]]))).toEqual({
      400: 'permanent',
      404: 'permanent',
      409: 'permanent',
      422: 'permanent',
      408: 'transient',
      429: 'transient',
      500: 'transient',
      502: 'transient',
      503: 'transient',
    });
  });

  it('when nothing listens, then fetch and callJson failures are transient', async () => {
    const port = await freePort();
    const fetchError = await rejection(fetch(`http://127.0.0.1:${port}/`));
    expect(fetchError).toBeInstanceOf(TypeError); // 'fetch failed', the code in its cause
    expect(classifyError(fetchError)).toBe('transient');
    expect(classifyError(await rejection(callJson(`http://127.0.0.1:${port}/`)))).toBe('transient');
  });

  it('when a call times out, then it is transient', async () => {
    const err = await rejection(fetch(`${base}/200`, { signal: AbortSignal.abort() }));
    expect(classifyError(err)).toBe('transient');
  });
});

describe('refusals in our own code', () => {
  it('a zod validation failure, a PermanentError and a 4xx HttpProblem are permanent; a 503 HttpProblem is not', () => {
    const zodError = z.object({ a: z.string() }).safeParse({ a: 1 }).error;
    expect(classifyError(zodError)).toBe('permanent');
    expect(classifyError(new PermanentError('no such employee'))).toBe('permanent');
    expect(classifyError(new Error('wrapped', { cause: new PermanentError('inner') }))).toBe('permanent');
    expect(classifyError(new HttpProblem(409, 'already decided'))).toBe('permanent');
    expect(classifyError(new HttpProblem(503, 'not ready'))).toBe('transient');
  });

  it('an error nothing recognises is retried (transient)', () => {
    expect(classifyError(new Error('something odd'))).toBe('transient');
    expect(classifyError('a string')).toBe('transient');
  });
});

describe('storableText', () => {
  it('replaces a NUL and lone surrogates, keeps pairs, and PostgreSQL then stores it', async () => {
    const nasty = `a\u0000b\uD800c\uDC00d😀`;
    const text = storableText(nasty);
    expect(text).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    const { rows } = await client.query<{ t: string }>('SELECT $1::text AS t', [text]);
    expect(rows[0]!.t).toBe(text);
    expect(describeError(new PermanentError(nasty))).toBe(`PermanentError: ${text}`);
  });
});
