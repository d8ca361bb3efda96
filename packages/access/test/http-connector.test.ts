import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '@ems/platform';
import { ConnectorError, type ConnectorChange, type ConnectorContext } from '../src/connectors/connector.ts';
import { HttpConnector, httpConnector } from '../src/connectors/http/index.ts';

/**
 * The signed HTTP connector against a real HTTP server on loopback, playing the system's receiver:
 * it checks each request's signature the way the README tells a receiver to (its own HMAC code, not
 * EMS's), then acknowledges, fails, or never answers, as each path says.
 */

const SECRET = 'whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3RzLW9ubHk=';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver's own check said. */
  signatureValid: boolean;
}

/** What a receiver writes (README): HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<raw body>", v1=<hex>, constant-time compare, 5-minute window. */
function receiverChecks(secret: string, headers: IncomingHttpHeaders, rawBody: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${id}.${timestamp}.${rawBody}`).digest();
  return signatures.split(' ').some((s) => {
    const [version, hex] = s.split('=');
    if (version !== 'v1' || !hex || !/^[0-9a-f]{64}$/.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
}

let server: Server;
let base: string;
const received: Received[] = [];
/** path → the answers to its 1st, 2nd, … request: [status, body] or 'hang'. */
const script = new Map<string, Array<[number, string] | 'hang'>>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const signatureValid = receiverChecks(SECRET, req.headers, body);
      received.push({ path, headers: req.headers, body, signatureValid });
      if (!signatureValid) {
        res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Unauthorized', status: 401, detail: 'bad signature' }));
        return;
      }
      const n = received.filter((r) => r.path === path).length;
      const answers = script.get(path) ?? [[204, '']];
      const answer = answers[Math.min(n, answers.length) - 1]!;
      if (answer === 'hang') return; // the connector's timeout must end it
      const [status, text] = answer;
      res.writeHead(status, text ? { 'content-type': 'application/json' } : {}).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const logs: string[] = [];
const context: ConnectorContext = {
  systemId: 'payroll',
  log: { info: (o, m) => logs.push(m + JSON.stringify(o)), warn: (o, m) => logs.push(m + JSON.stringify(o)), error: (o, m) => logs.push(m + JSON.stringify(o)) },
  readSecretFile: () => SECRET,
};

function connectorFor(path: string, extra: Record<string, unknown> = {}) {
  const settings = httpConnector.parseSettings({ url: `${base}${path}`, secretFile: 'payroll.secret', timeout: '1s', allowPrivateTargets: true, ...extra });
  return httpConnector.create(settings, context);
}

const change = (changeId: string, over: Partial<ConnectorChange> = {}): ConnectorChange => ({
  changeId,
  action: 'suspend',
  account: { employeeId: '0b6d3f4e-1c2a-4b5d-8e9f-0a1b2c3d4e5f', email: 'ada@example.com' },
  entitlements: ['payroll-approver', 'payroll-viewer'],
  ...over,
});

const never = () => new AbortController().signal;

async function failure(work: Promise<unknown>): Promise<ConnectorError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('the signed HTTP connector', () => {
  it('when a change is applied, then the receiver gets one signed POST it can verify, and its acknowledgement is the verification', async () => {
    script.set('/ack', [[200, JSON.stringify({ verification: 'payroll account 4711 locked; roles payroll-approver, payroll-viewer removed' })]]);
    const outcome = await connectorFor('/ack').apply(change('7f1e2d3c-0000-4000-8000-000000000001'), never());

    expect(outcome.verification).toBe('payroll account 4711 locked; roles payroll-approver, payroll-viewer removed');
    const [got, ...more] = received.filter((r) => r.path === '/ack');
    expect(more).toEqual([]);
    expect(got!.signatureValid).toBe(true);
    expect(verifyWebhookSignature(SECRET, got!.headers, got!.body)).toBe(true);
    expect(got!.headers['idempotency-key']).toBe('7f1e2d3c-0000-4000-8000-000000000001');
    expect(got!.headers['webhook-id']).toBe('7f1e2d3c-0000-4000-8000-000000000001');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(got!.body)).toEqual({
      changeId: '7f1e2d3c-0000-4000-8000-000000000001',
      action: 'suspend',
      account: { employeeId: '0b6d3f4e-1c2a-4b5d-8e9f-0a1b2c3d4e5f', email: 'ada@example.com' },
      entitlements: ['payroll-approver', 'payroll-viewer'],
      system: 'payroll',
    });
    // The secret is in no header and no log line.
    expect(JSON.stringify(got!.headers)).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(SECRET);
  });

  it('when the receiver checks with another secret, then the signature fails there (it is the secret that signs)', async () => {
    const c = new HttpConnector({ systemId: 'payroll', url: `${base}/ack-other`, secret: `${SECRET}-not-the-receivers`, timeoutMs: 1_000, allowPrivateTargets: true });
    const err = await failure(c.apply(change('7f1e2d3c-0000-4000-8000-000000000009'), never()));
    expect(received.find((r) => r.path === '/ack-other')!.signatureValid).toBe(false);
    expect(err).toMatchObject({ transient: false, code: '401', message: `POST ${base}/ack-other answered HTTP 401: bad signature` });
  });

  it('when the acknowledgement has no body, then the verification says who acknowledged it and how', async () => {
    script.set('/empty', [[204, '']]);
    const outcome = await connectorFor('/empty').apply(change('7f1e2d3c-0000-4000-8000-000000000002', { action: 'revoke' }), never());
    expect(outcome.verification).toBe(`${base}/empty acknowledged change 7f1e2d3c-0000-4000-8000-000000000002 with HTTP 204`);
  });

  it('when the receiver does not answer within the timeout, then the change fails as transient (Access retries it)', async () => {
    script.set('/slow', ['hang']);
    const started = Date.now();
    const err = await failure(connectorFor('/slow', { timeout: '300ms' }).apply(change('7f1e2d3c-0000-4000-8000-000000000003'), never()));
    expect(err).toMatchObject({ transient: true, code: 'timeout', message: `POST ${base}/slow: no acknowledgement within 300 ms` });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(received.filter((r) => r.path === '/slow')).toHaveLength(1);
  });

  it('when Access abandons the change (its deadline, or shutdown), then the request ends at once as transient', async () => {
    script.set('/abandoned', ['hang']);
    const abandon = new AbortController();
    const started = Date.now();
    setTimeout(() => abandon.abort(), 100);
    const err = await failure(connectorFor('/abandoned', { timeout: '5s' }).apply(change('7f1e2d3c-0000-4000-8000-000000000008'), abandon.signal));
    expect(err).toMatchObject({ transient: true, code: 'aborted', message: `POST ${base}/abandoned: abandoned (Access's deadline for this change passed, or EMS is stopping)` });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the receiver answers 500 and then 200, then the first attempt is transient and the retry, with the same idempotency key and signature id, succeeds', async () => {
    script.set('/flaky', [
      [500, JSON.stringify({ title: 'Internal Server Error', status: 500, detail: 'payroll database unavailable' })],
      [200, JSON.stringify({ verification: 'locked' })],
    ]);
    const connector = connectorFor('/flaky');
    const first = await failure(connector.apply(change('7f1e2d3c-0000-4000-8000-000000000004'), never()));
    expect(first).toMatchObject({ transient: true, code: '500', message: `POST ${base}/flaky answered HTTP 500: payroll database unavailable` });
    expect(await connector.apply(change('7f1e2d3c-0000-4000-8000-000000000004'), never())).toEqual({ verification: 'locked' });

    const attempts = received.filter((r) => r.path === '/flaky');
    expect(attempts.map((a) => a.headers['idempotency-key'])).toEqual(['7f1e2d3c-0000-4000-8000-000000000004', '7f1e2d3c-0000-4000-8000-000000000004']);
    expect(attempts.map((a) => a.headers['webhook-id'])).toEqual(['7f1e2d3c-0000-4000-8000-000000000004', '7f1e2d3c-0000-4000-8000-000000000004']);
    expect(attempts.every((a) => a.signatureValid)).toBe(true);
  });

  it('when the receiver answers 400, then the change fails as permanent with the receiver\'s own words', async () => {
    script.set('/refuse', [[400, JSON.stringify({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'no payroll account for ada@example.com' })]]);
    const err = await failure(connectorFor('/refuse').apply(change('7f1e2d3c-0000-4000-8000-000000000005'), never()));
    expect(err).toMatchObject({ transient: false, code: '400', message: `POST ${base}/refuse answered HTTP 400: no payroll account for ada@example.com` });
  });

  it('when nothing listens on the port, then the change fails as transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const c = new HttpConnector({ systemId: 'payroll', url: `http://127.0.0.1:${port}/x`, secret: SECRET, timeoutMs: 1_000, allowPrivateTargets: true });
    const err = await failure(c.apply(change('7f1e2d3c-0000-4000-8000-000000000006'), never()));
    expect(err).toMatchObject({ transient: true, code: 'no_answer' });
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('when the URL is loopback, private or a local name and private targets are not allowed, then the settings are refused', () => {
    for (const url of [`${base}/x`, 'http://10.0.0.5/x', 'http://localhost:8080/x', 'http://payroll/x', 'http://metadata.google.internal/']) {
      expect(() => httpConnector.parseSettings({ url, secret: SECRET })).toThrow(/internal address.*allowPrivateTargets: true allows it/);
    }
    expect(() => httpConnector.parseSettings({ url: 'ftp://payroll.example.com/x', secret: SECRET })).toThrow(/http or https/);
    expect(() => httpConnector.parseSettings({ url: 'https://u:p@payroll.example.com/x', secret: SECRET })).toThrow(/credentials/);
    expect(() => httpConnector.parseSettings({ url: 'https://payroll.example.com/x' })).toThrow(/exactly one of secret or secretFile/);
    expect(() => httpConnector.parseSettings({ url: 'https://payroll.example.com/x', secret: SECRET, retries: 3 })).toThrow(/retries/);
    expect(httpConnector.parseSettings({ url: 'https://payroll.example.com/x', secret: SECRET })).toMatchObject({ timeout: 10_000, allowPrivateTargets: false });
  });

  it('when a public-looking name resolves to loopback, then nothing is sent and the change fails as permanent', async () => {
    const before = received.length;
    const port = new URL(base).port;
    const c = new HttpConnector({
      systemId: 'payroll',
      url: `http://payroll.example.com:${port}/rebound`,
      secret: SECRET,
      timeoutMs: 1_000,
      allowPrivateTargets: false,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const err = await failure(c.apply(change('7f1e2d3c-0000-4000-8000-000000000007'), never()));
    expect(err).toMatchObject({ transient: false, code: 'target_refused' });
    expect(err.message).toMatch(/^refused: payroll\.example\.com resolves to internal address 127\.0\.0\.1: loopback .*allowPrivateTargets/);
    expect(received.length).toBe(before);
  });

  it('when settings are described for the API, then neither the secret nor a query string appears', () => {
    const settings = httpConnector.parseSettings({ url: `${base}/ack?token=abc`, secret: SECRET, allowPrivateTargets: true });
    const shown = JSON.stringify(httpConnector.describe!(settings));
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('token=abc');
    expect(JSON.parse(shown)).toEqual({ url: `${base}/ack`, timeoutMs: 10_000, allowPrivateTargets: true });
  });
});
