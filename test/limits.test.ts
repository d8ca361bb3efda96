/**
 * Limits, against a real EMS on real PostgreSQL (issue 12): rate limits per identity and per client
 * address (429 + Retry-After), header and body timeouts (a trickling client is cut off), the fleet's
 * gateway refusing a body past the services' cap while it is still arriving, security headers, the Host
 * allow-list (DNS rebinding), CORS off unless configured. One EMS with low limits, one with the defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { demoOrg } from '@ems/demo-org';
import { freePort, HTTP_BODY_LIMIT } from '@ems/platform';
import { startGateway } from '../packages/server/src/cli/gateway.ts';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { HR_LEAD, tokenFor } from './support/auth.ts';

const org = demoOrg();
/** Two people with no administrative role: each has a share of their own. */
const [ALICE, BOB] = org.employees.filter((e) => e.managerId && !org.roleAssignments.some((a) => a.personId === e.id));

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const problemOf = (a: Answer) => JSON.parse(a.body) as { status: number; title: string; detail: string };

/** A request as any client could send it — with whatever Host header it likes. */
function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `head`, then `drip` every 100 ms, forever: resolves with whatever the server answered once it
 * closes the connection. A server that never cuts the client off leaves this pending (the test times out).
 */
function trickle(base: string, head: string, drip: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed && socket.writable) socket.write(drip);
      }, 100);
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined); // a reset is one way of being cut off
    socket.on('close', () => {
      clearInterval(timer);
      resolve(answer);
    });
  });
}

/**
 * Streams `total` bytes in 64 KiB chunks (with `head` first), stopping as soon as an answer arrives.
 * Resolves with the answer and how many body bytes were written by then.
 */
function streamUntilAnswered(base: string, head: string, total: number, chunked: boolean): Promise<{ answer: string; sent: number }> {
  const url = new URL(base);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let sent = 0;
    let answered = false;
    const finish = () => {
      if (answered) return;
      answered = true;
      resolve({ answer, sent });
      socket.destroy();
    };
    const pump = () => {
      while (!answered && sent < total) {
        const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
        sent += chunk.length;
        if (!socket.write(frame)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
      if (answer.includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

describe('limits, configured low', () => {
  let env: AcceptanceEnv;
  let base: string;

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'limits_low', {
      env: {
        EMS_RATE_LIMIT_PER_IDENTITY: '5',
        EMS_RATE_LIMIT_PER_ADDRESS: '8',
        EMS_RATE_LIMIT_WINDOW: '10m',
        EMS_HEADERS_TIMEOUT: '1s',
        EMS_REQUEST_TIMEOUT: '2s',
        EMS_CORS_ORIGINS: 'https://hr.example.com',
      },
    });
    base = env.base;
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when one person sends more requests than their share, then they get 429 problem+json with Retry-After — and another person is still served', async () => {
    const alice = { authorization: `Bearer ${await tokenFor(base, ALICE!.id)}` };
    const bob = { authorization: `Bearer ${await tokenFor(base, BOB!.id)}` };
    for (let i = 0; i < 5; i++) expect((await send(base, 'GET', '/api/me', alice)).status).toBe(200);
    const refused = await send(base, 'GET', '/api/me', alice);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(problemOf(refused).detail).toContain('EMS_RATE_LIMIT_PER_IDENTITY');
    expect((await send(base, 'GET', '/api/me', bob)).status).toBe(200);
    // Health is never limited.
    expect((await send(base, 'GET', '/healthz', alice)).status).toBe(200);
  });

  it('when one client address (as the gateway forwards it) sends more requests than its share, then it gets 429 with Retry-After; health, other addresses and this host are still served', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 8; i++) expect((await send(base, 'GET', '/', from('203.0.113.7'))).status).toBe(200);
    const refused = await send(base, 'GET', '/', from('203.0.113.7'));
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(problemOf(refused).detail).toContain('203.0.113.7');
    // Before authentication: a token does not buy more from that address.
    const token = { authorization: `Bearer ${await tokenFor(base, BOB!.id)}` };
    expect((await send(base, 'GET', '/api/me', { ...from('203.0.113.7'), ...token })).status).toBe(429);
    expect((await send(base, 'GET', '/healthz', from('203.0.113.7'))).status).toBe(200);
    expect((await send(base, 'GET', '/', from('203.0.113.8'))).status).toBe(200);
    // Loopback (this host: the CLI, the fleet's gateway itself) is exempt by default.
    for (let i = 0; i < 10; i++) expect((await send(base, 'GET', '/')).status).toBe(200);
  });

  it('when a client sends its headers and then trickles the body, then the connection is cut off (408) instead of staying open', async () => {
    const token = await tokenFor(base, HR_LEAD);
    const url = new URL(base);
    const head = `POST /api/resignations HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"employeeId":"`;
    const answer = await trickle(base, head, 'x');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('when a client trickles its headers, then the connection is cut off', async () => {
    const url = new URL(base);
    const answer = await trickle(base, `GET / HTTP/1.1\r\nHost: ${url.host}\r\n`, 'X-Drip: 1\r\n');
    expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('when a configured origin calls, then CORS lets it read the answer with credentials; another origin gets no CORS headers', async () => {
    const allowed = await send(base, 'GET', '/healthz', { origin: 'https://hr.example.com' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://hr.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const preflight = await send(base, 'OPTIONS', '/api/resignations', { origin: 'https://hr.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const other = await send(base, 'GET', '/healthz', { origin: 'https://evil.example' });
    expect(Object.keys(other.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});

describe('limits, by default', () => {
  let env: AcceptanceEnv;
  let base: string;
  let gateway: { stop(): Promise<void> } | undefined;
  let gatewayBase: string;

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'limits_default');
    base = env.base;
    const port = await freePort();
    gateway = await startGateway({ port, host: '127.0.0.1', routes: [], upstreams: () => [base] });
    gatewayBase = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await env?.stop();
  });

  it('when a page is served, then it carries the security headers: a CSP that allows no framing, nosniff, a referrer policy, and no HSTS over http', async () => {
    for (const path of ['/', '/docs/', '/api/me']) {
      const res = await send(base, 'GET', path);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy'], path).not.toContain('upgrade-insecure-requests');
      expect(res.headers['strict-transport-security'], path).toBeUndefined();
    }
    // The web app's shell runs only scripts from this origin: no inline script at all.
    const shell = await send(base, 'GET', '/');
    expect(shell.status).toBe(200);
    expect(shell.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    expect(shell.headers['content-security-policy']).not.toContain('unsafe-inline\'; script');
    expect(shell.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // The interactive docs still load: the page and its script.
    const docs = await send(base, 'GET', '/docs/');
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('swagger-initializer.js');
    expect((await send(base, 'GET', '/docs/static/swagger-initializer.js')).status).toBe(200);
  });

  it('when a request names a foreign Host (DNS rebinding against loopback), then it is refused with 421 problem+json; localhost, 127.0.0.1 and health are answered', async () => {
    const port = new URL(base).port;
    const foreign = await send(base, 'GET', '/', { host: `attacker.example:${port}` });
    expect(foreign.status).toBe(421);
    expect(foreign.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(problemOf(foreign).detail).toContain('attacker.example');
    const withToken = await send(base, 'GET', '/api/me', { host: `attacker.example:${port}`, authorization: `Bearer ${await tokenFor(base, ALICE!.id)}` });
    expect(withToken.status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect((await send(base, 'GET', '/', { host })).status, host).toBe(200);
    expect((await send(base, 'GET', '/healthz', { host: `attacker.example:${port}` })).status).toBe(200);
  });

  it('when nothing is configured, then no answer carries CORS headers, whatever the origin', async () => {
    for (const res of [
      await send(base, 'GET', '/healthz', { origin: 'https://hr.example.com' }),
      await send(base, 'GET', '/api/me', { origin: 'https://hr.example.com', authorization: `Bearer ${await tokenFor(base, ALICE!.id)}` }),
      await send(base, 'OPTIONS', '/api/resignations', { origin: 'https://hr.example.com', 'access-control-request-method': 'POST' }),
    ]) {
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('when a request passes through the gateway, then it reaches the service with its headers and body', async () => {
    expect((await send(gatewayBase, 'GET', '/healthz')).status).toBe(200);
    const me = await send(gatewayBase, 'GET', '/api/me', { authorization: `Bearer ${await tokenFor(base, ALICE!.id)}` });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ id: ALICE!.id });
    const invalid = await send(gatewayBase, 'POST', '/api/resignations', { authorization: `Bearer ${await tokenFor(base, HR_LEAD)}`, 'content-type': 'application/json' }, JSON.stringify({ employeeId: 42 }));
    expect(invalid.status).toBe(400);
  });

  it('when a body larger than the cap comes to a service, then it answers 413 problem+json and stores nothing', async () => {
    const before = Number((await env.ems.pool.query<{ n: string }>('SELECT count(*) AS n FROM ems.resignations')).rows[0]!.n);
    const big = JSON.stringify({ employeeId: ALICE!.id, reason: 'x'.repeat(HTTP_BODY_LIMIT) });
    const res = await send(base, 'POST', '/api/resignations', { authorization: `Bearer ${await tokenFor(base, ALICE!.id)}`, 'content-type': 'application/json' }, big);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(problemOf(res).title).toBe('Content Too Large');
    expect(Number((await env.ems.pool.query<{ n: string }>('SELECT count(*) AS n FROM ems.resignations')).rows[0]!.n)).toBe(before);
  });

  it('when a body declared larger than the cap comes to the gateway, then it answers 413 problem+json at once, before the body is sent', async () => {
    const url = new URL(gatewayBase);
    const head = `POST /api/resignations HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${400 * 1024 * 1024}\r\n\r\n`;
    const { answer, sent } = await streamUntilAnswered(gatewayBase, head, 400 * 1024 * 1024, false);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(sent).toBeLessThan(400 * 1024 * 1024);
  });

  it('when a chunked body grows past the cap at the gateway, then it answers 413 while the client is still sending', async () => {
    const url = new URL(gatewayBase);
    const head = `POST /api/resignations HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const total = 400 * 1024 * 1024;
    const { answer, sent } = await streamUntilAnswered(gatewayBase, head, total, true);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(sent).toBeGreaterThan(HTTP_BODY_LIMIT);
    expect(sent).toBeLessThan(total);
  });
});
