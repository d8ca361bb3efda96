import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type App, type Logger, type Pool } from '@ems/platform';
import { createTestDatabase, requestJson, waitFor, type JsonResponse, type TestDatabase } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { createSecrets } from '@ems/identity';
import { startTestIdentity, TEST_SECRETS_KEY, type TestIdentity } from '@ems/identity/testing';
import { EventSchemas, EventSources, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { createEvent, type EventBus, type EventBusTestHooks } from '@ems/eventbus';
import { createTestPostgresBus, publishInTransaction, resignationSubmittedEvent } from '@ems/eventbus/testing';
import {
  createWebhookService,
  newWebhookSecret,
  RegisteredWebhook,
  systemResolver,
  verifyWebhookSignature,
  Webhook,
  WebhookDeliveryList,
  WebhookList,
  WebhookPaths,
  type HostResolver,
  type WebhookService,
} from '../src/index.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/**
 * Outgoing webhooks against a real PostgreSQL, the real PostgreSQL event bus (pg-boss) and real HTTP
 * receivers on loopback. Retries: 3 attempts, the bus's shortest backoff (≈1 s, then ≈2 s).
 */

const log = createLogger({ level: 'silent' });
const catalogue = { ...EventSchemas };
const retry = { maxAttempts: 3, backoffMs: 1000 };
/** The installation's secrets, as the composition root passes them (a fixed test key). */
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));

/** Everything the webhook service logs, every level, as it would be written (to check no secret is ever in it). */
function recordingLogger(): { log: Logger; text(): string } {
  const records: unknown[][] = [];
  const logger: Logger = new Proxy({} as Logger, {
    get: (_target, prop) =>
      prop === 'child' ? () => logger : prop === 'level' ? 'trace' : prop === 'isLevelEnabled' ? () => true : (...args: unknown[]) => void records.push(args),
  });
  const replacer = (_key: string, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value);
  return { log: logger, text: () => JSON.stringify(records, replacer) };
}
const serviceLog = recordingLogger();

/**
 * The test's DNS, injected into delivery (no /etc/hosts edits): these public-looking names point at
 * the loopback receiver, any other name resolves as usual. Every name asked is recorded.
 */
const REBOUND_NAME = 'rebound.ems-webhooks.example.com';
const PINNED_NAME = 'receiver.ems-webhooks.example.com';
const resolvedNames: string[] = [];
const resolveHost: HostResolver = async (name) => {
  resolvedNames.push(name);
  return name === REBOUND_NAME || name === PINNED_NAME ? [{ address: '127.0.0.1', family: 4 }] : systemResolver(name);
};

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let service: WebhookService;
let app: App;
let base: string;
let strictApp: App;
let strictBase: string;
let receiver: Receiver;
let identity: TestIdentity;

const org = demoOrg();
/** The operator on call in the demo organisation: every webhook operation is theirs. */
const OPERATOR = org.roleAssignments.find((a) => a.role === 'operator')!.personId;

function newBus(): EventBus & EventBusTestHooks {
  return createTestPostgresBus(pool, { log, catalogue, defaultRetry: { maxAttempts: 5, backoffMs: 1000 }, stopTimeoutMs: 5_000 });
}

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'webhooks');
  pool = createPool(testDb.url, { max: 20 });
  bus = newBus();
  service = createWebhookService({ pool, log: serviceLog.log, bus, catalogue, secrets, allowPrivateTargets: true, timeoutMs: 3_000, retry, resolveHost });
  await migrate(pool, service.schema, service.migrations);
  await bus.start();
  await service.start();
  // The identity provider the webhook routes trust (its own port, over the same database): real tokens.
  identity = await startTestIdentity(pool, org, log);
  const security = identity.securityFor(['webhooks']);
  app = await createHttpServer({ title: 'webhooks test', version: '0', logger: log, plugins: [service.routes], readiness: service.readiness ?? {}, docs: false, security });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  // The production default: no internal targets.
  const strict = createWebhookService({ pool, log, bus, catalogue, secrets });
  strictApp = await createHttpServer({ title: 'webhooks strict test', version: '0', logger: log, plugins: [strict.routes], readiness: {}, docs: false, security });
  strictBase = await strictApp.listen({ port: 0, host: '127.0.0.1' });
  receiver = await startReceiver();
});

afterAll(async () => {
  await app?.close();
  await strictApp?.close();
  await identity?.stop();
  await service?.stop();
  await bus?.stop();
  await receiver?.close();
  await pool?.end();
  await testDb?.drop();
});

const resignationSubmitted = (): CloudEvent =>
  resignationSubmittedEvent({ employee: { id: 'e-100', name: 'Ada Leaver', email: 'ada@acme.example', timezone: 'Europe/Berlin' }, hrPartnerId: 'hr-1', lastWorkingDay: '2026-03-27' });

function accessSuspended(): CloudEvent {
  const resignationId = randomUUID();
  return createEvent({
    type: EventTypes.criticalAccessSuspended,
    source: EventSources.access,
    subject: resignationId,
    correlationId: resignationId,
    data: { resignationId, employeeId: 'e-100', holdId: randomUUID(), suspended: [] },
  });
}

/** A call to the webhook API as the operator (a signed-in person's token); `headers` may override it. */
async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, at = base): Promise<JsonResponse<T>> {
  return requestJson<T>(at, method, path, body, { ...(await identity.as(OPERATOR)), ...headers });
}

/** Publishes as a service does: in a database transaction. */
const publish = (...events: CloudEvent[]) => publishInTransaction(pool, bus, events);
/** Barrier: every job on the bus has run to its end (deliveries, retries, dead letters): a delivery that should not happen would have happened. */
const busIdle = () => waitFor(async () => ((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM bus.job WHERE state < 'completed'`)).rows[0]!.n === 0 ? true : undefined), 'every job on the bus to have run');

let hookNo = 0;
/** A fresh path on the receiver for each webhook (one live webhook per URL). */
const freshPath = () => `/hook-${++hookNo}-${randomUUID().slice(0, 8)}`;

async function register(body: Record<string, unknown>, headers: Record<string, string> = {}, at = base) {
  return call('POST', WebhookPaths.webhooks, body, headers, at);
}

async function registerOk(path: string, eventTypes: string[] = [EventTypes.resignationSubmitted]): Promise<RegisteredWebhook> {
  const r = await register({ url: receiver.url + path, eventTypes });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return RegisteredWebhook.parse(r.body);
}

async function deliveries(webhookId: string) {
  const r = await call('GET', WebhookPaths.deliveries(webhookId));
  expect(r.status).toBe(200);
  return WebhookDeliveryList.parse(r.body).items;
}

/** The stored form of a webhook's secret. */
async function storedSecret(webhookId: string): Promise<string> {
  const r = await pool.query<{ secret_encrypted: string }>('SELECT secret_encrypted FROM webhooks.webhooks WHERE id = $1', [webhookId]);
  return r.rows[0]!.secret_encrypted;
}

/** Stops this process's server, bus and service, as a shutdown would, and starts new ones on the same database. */
async function restartService(): Promise<void> {
  await app.close();
  await service.stop();
  await bus.stop();
  bus = newBus();
  service = createWebhookService({ pool, log: serviceLog.log, bus, catalogue, secrets, allowPrivateTargets: true, retry, resolveHost });
  await bus.start();
  await service.start();
  app = await createHttpServer({ title: 'webhooks test', version: '0', logger: log, plugins: [service.routes], readiness: service.readiness ?? {}, docs: false, security: identity.securityFor(['webhooks']) });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}

/**
 * A second webhook service with the production default (no internal targets) on the current bus and
 * database, with its own HTTP server; webhooks registered through it are delivered by it.
 */
async function startStrictService(): Promise<{ base: string; close(): Promise<void> }> {
  const strict = createWebhookService({ pool, log, bus, catalogue, secrets, retry, resolveHost, timeoutMs: 3_000 });
  const strictServer = await createHttpServer({ title: 'webhooks strict delivery test', version: '0', logger: log, plugins: [strict.routes], readiness: {}, docs: false, security: identity.securityFor(['webhooks']) });
  return { base: await strictServer.listen({ port: 0, host: '127.0.0.1' }), close: async () => (await strictServer.close(), await strict.stop()) };
}

async function storedState() {
  const webhooks = await pool.query('SELECT count(*)::int AS n FROM webhooks.webhooks');
  const routes = await pool.query(`SELECT count(*)::int AS n FROM bus.subscription WHERE name LIKE 'webhooks.%'`);
  return { webhooks: webhooks.rows[0] as { n: number }, routes: routes.rows[0] as { n: number } };
}

describe('registering webhooks', () => {
  it('when a webhook is registered, then the answer shows its secret once, the bus routes its event types to it, and reads never show the secret', async () => {
    const r = await register({ url: `${receiver.url}${freshPath()}#ignored`, eventTypes: [EventTypes.managerNotified, EventTypes.resignationSubmitted, EventTypes.managerNotified], description: 'HR dashboard' });
    expect(r.status).toBe(201);
    const created = RegisteredWebhook.parse(r.body);
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.url).not.toContain('#');
    expect(created.eventTypes).toEqual([EventTypes.managerNotified, EventTypes.resignationSubmitted].sort());
    expect(created.description).toBe('HR dashboard');

    const one = await call('GET', WebhookPaths.webhook(created.id));
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ id: created.id, url: created.url, eventTypes: created.eventTypes, description: 'HR dashboard', createdAt: created.createdAt });
    const list = WebhookList.parse((await call('GET', `${WebhookPaths.webhooks}?limit=500`)).body);
    expect(list.items.find((w) => w.id === created.id)).toEqual(one.body);
    expect(JSON.stringify(list)).not.toContain('whsec_');

    const routes = await pool.query<{ event: string }>('SELECT event FROM bus.subscription WHERE name = $1 ORDER BY event', [`webhooks.${created.id}`]);
    expect(routes.rows.map((row) => row.event)).toEqual(created.eventTypes);
  });

  it('when the same registration is repeated, then it answers the webhook (200) without its secret — with the creating Idempotency-Key too (secret: null); another registration for the URL conflicts', async () => {
    const url = receiver.url + freshPath();
    const body = { url, eventTypes: [EventTypes.resignationSubmitted] };
    const first = await register(body, { 'idempotency-key': `k-${url}` });
    expect(first.status).toBe(201);
    const created = RegisteredWebhook.parse(first.body);
    const before = await storedState();

    const repeat = await register(body);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(Webhook.parse(first.body));
    expect(repeat.body).not.toHaveProperty('secret');

    const replay = await register(body, { 'idempotency-key': `k-${url}` });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ ...Webhook.parse(first.body), secret: null });
    expect(JSON.stringify(replay.body)).not.toContain(created.secret!);

    const other = await register({ url, eventTypes: [EventTypes.managerNotified] });
    expect(other.status).toBe(409);
    const keyReused = await register({ url: receiver.url + freshPath(), eventTypes: [EventTypes.resignationSubmitted] }, { 'idempotency-key': `k-${url}` });
    expect(keyReused.status).toBe(409);
    expect(await storedState()).toEqual(before);
  });

  it('when the same webhook is registered concurrently, then one is created and the others answer it', async () => {
    const body = { url: receiver.url + freshPath(), eventTypes: [EventTypes.resignationSubmitted] };
    const answers = await Promise.all([register(body), register(body), register(body), register(body)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(answers.map((a) => (a.body as { id: string }).id)).size).toBe(1);
    const rows = await pool.query('SELECT id FROM webhooks.webhooks WHERE url = $1', [body.url]);
    expect(rows.rowCount).toBe(1);
  });

  it.each([
    ['an event type missing from the catalogue', { eventTypes: ['com.ems.nothing.happened.v1'] }, /unknown event type com\.ems\.nothing\.happened\.v1/],
    ['one unknown among known event types', { eventTypes: [EventTypes.resignationSubmitted, 'com.ems.typo.v1'] }, /com\.ems\.typo\.v1/],
    ['no event types', { eventTypes: [] }, /eventTypes/],
    ['a non-http URL', { url: 'ftp://127.0.0.1/hook' }, /http or https/],
    ['no URL at all', { url: 'not a url' }, /absolute/],
    ['credentials in the URL', { url: 'http://user:secret@127.0.0.1/hook' }, /credentials/],
    ['a missing URL', { url: undefined }, /url/],
  ])('when the registration has %s, then 400 problem+json and nothing is stored or subscribed', async (_case, patch, detail) => {
    const before = await storedState();
    const r = await register({ url: receiver.url + freshPath(), eventTypes: [EventTypes.resignationSubmitted], ...patch });
    expect(r.status).toBe(400);
    expect(r.contentType).toContain('application/problem+json');
    expect(String(r.body.detail)).toMatch(detail);
    expect(await storedState()).toEqual(before);
  });

  it.each([
    ['the loopback receiver', () => receiver.url + freshPath()],
    ['localhost', () => 'http://localhost:8080/hook'],
    ['localhost with a trailing dot', () => 'http://localhost./hook'],
    ['a name under .localhost', () => 'http://api.localhost/hook'],
    ['loopback as one decimal number', () => 'http://2130706433/hook'],
    ['loopback in octal', () => 'http://0177.0.0.1/hook'],
    ['loopback in hex, short', () => 'http://0x7f.1/hook'],
    ['loopback, short form', () => 'http://127.1/hook'],
    ['a percent-encoded loopback', () => 'http://%31%32%37.0.0.1/hook'],
    ['IPv6 loopback', () => 'http://[::1]/hook'],
    ['IPv4-mapped loopback, dotted', () => 'http://[::ffff:127.0.0.1]/hook'],
    ['IPv4-mapped loopback, hex', () => 'http://[::ffff:7f00:1]/hook'],
    ['IPv4-compatible loopback', () => 'http://[::127.0.0.1]/hook'],
    ['IPv4-compatible loopback, hex', () => 'http://[::7f00:1]/hook'],
    ['NAT64 of loopback', () => 'http://[64:ff9b::127.0.0.1]/hook'],
    ['6to4 of a private network', () => 'http://[2002:c0a8:101::1]/hook'],
    ['IPv6 site-local', () => 'http://[fec0::1]/hook'],
    ['IPv6 unique-local', () => 'http://[fd12:3456::1]/hook'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest'],
    ['the AWS metadata address over IPv6', () => 'http://[fd00:ec2::254]/latest'],
    ['the Alibaba Cloud metadata address', () => 'http://100.100.100.200/latest'],
    ['the GCP metadata name', () => 'http://metadata.google.internal/computeMetadata/v1/'],
    ['the GCP metadata name with a trailing dot', () => 'http://metadata.google.internal./computeMetadata/v1/'],
    ['a bare metadata name', () => 'http://metadata/'],
    ['the AWS metadata name', () => 'http://instance-data/latest'],
    ['a private network', () => 'http://10.0.0.5/hook'],
    ['a carrier-grade NAT address', () => 'http://100.64.0.1/hook'],
    ['a multicast address', () => 'http://[ff02::1]/hook'],
    ['a reserved address', () => 'http://240.0.0.1/hook'],
    ['an mDNS name', () => 'http://printer.local/hook'],
    ['an .internal name', () => 'http://db.internal/hook'],
  ])('when internal targets are not allowed (the default) and the URL is %s, then 400 problem+json names url, and nothing is stored or subscribed', async (_case, url) => {
    const before = await storedState();
    const r = await register({ url: url(), eventTypes: [EventTypes.resignationSubmitted] }, {}, strictBase);
    expect(r.status, url()).toBe(400);
    expect(r.contentType).toContain('application/problem+json');
    expect(String(r.body.detail)).toMatch(/^url must not point at an internal address: /);
    expect(r.body.errors).toEqual([{ path: 'body.url', message: r.body.detail }]);
    expect(await storedState()).toEqual(before);
  });

  it('when the OpenAPI document is generated, then it describes every webhook route, and that the secret is shown once (a repeat with the same Idempotency-Key answers secret: null)', async () => {
    const doc = await requestJson<{ paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>(base, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths['/api/webhooks'] ?? {}).sort()).toEqual(['get', 'post']);
    const post = doc.body.paths['/api/webhooks']!.post as { description: string };
    expect(post.description).toMatch(/shown once/);
    expect(post.description).toContain('`secret: null`');
    expect(JSON.stringify(doc.body.components.schemas.RegisteredWebhook)).toContain('secret: null');
    expect(Object.keys(doc.body.paths['/api/webhooks/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.body.paths['/api/webhooks/{id}/deliveries'] ?? {})).toEqual(['get']);
  });

  it('when a webhook id is unknown or malformed, then 404 or 400', async () => {
    expect((await call('GET', WebhookPaths.webhook(randomUUID()))).status).toBe(404);
    expect((await call('DELETE', WebhookPaths.webhook(randomUUID()))).status).toBe(404);
    expect((await call('GET', WebhookPaths.deliveries(randomUUID()))).status).toBe(404);
    expect((await call('GET', WebhookPaths.webhook('nope'))).status).toBe(400);
  });
});

describe('delivering events', () => {
  it('when an event of a listed type is published, then the receiver gets the CloudEvent signed; the signature verifies, and fails on a tampered body', async () => {
    const path = freshPath();
    const hook = await registerOk(path);
    const unlisted = accessSuspended();
    const event = resignationSubmitted();
    await publish(unlisted, event);

    const [got] = await waitFor(() => (receiver.requestsTo(path).length > 0 ? receiver.requestsTo(path) : undefined), 'the webhook delivery');
    expect(got!.headers['content-type']).toBe('application/cloudevents+json');
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(got!.headers['webhook-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(JSON.parse(got!.body)).toEqual(event);

    expect(verifyWebhookSignature(hook.secret!, got!.headers, got!.body)).toBe(true);
    const tampered = got!.body.replace('Ada Leaver', 'Eve Leaver');
    expect(tampered).not.toBe(got!.body);
    expect(verifyWebhookSignature(hook.secret!, got!.headers, tampered)).toBe(false);
    expect(verifyWebhookSignature('whsec_someone-else', got!.headers, got!.body)).toBe(false);

    const [d, ...more] = await waitFor(async () => {
      const items = await deliveries(hook.id);
      return items.length > 0 ? items : undefined;
    }, 'the delivery record');
    expect(more).toEqual([]);
    expect(d).toMatchObject({ webhookId: hook.id, eventId: event.id, eventType: event.type, attempt: 1, outcome: 'delivered', statusCode: 204, error: null });

    // The unlisted event, published first in the same transaction, never came.
    await busIdle();
    expect(receiver.requestsTo(path).map((r) => r.headers['webhook-id'])).toEqual([event.id]);
  });

  it('when the receiver fails twice, then the bus retries and the third attempt delivers the event', async () => {
    const path = freshPath();
    const answers = [500, 503, 200];
    const respond = receiver.respond;
    receiver.respond = (p, n) => (p === path ? answers[n - 1] ?? 200 : respond(p, n));
    try {
      const hook = await registerOk(path);
      const event = resignationSubmitted();
      await publish(event);

      const attempts = await waitFor(() => (receiver.requestsTo(path).length >= 3 ? receiver.requestsTo(path) : undefined), 'three delivery attempts', 30_000);
      for (const a of attempts) {
        expect(a.headers['webhook-id']).toBe(event.id);
        expect(verifyWebhookSignature(hook.secret!, a.headers, a.body)).toBe(true);
      }
      const records = await waitFor(async () => {
        const items = await deliveries(hook.id);
        return items.length >= 3 ? items : undefined;
      }, 'three delivery records');
      expect(records.map((r) => [r.attempt, r.outcome, r.statusCode])).toEqual([
        [1, 'failed', 500],
        [2, 'failed', 503],
        [3, 'delivered', 200],
      ]);
      expect(records[0]!.error).toBe('answered HTTP 500');
      await busIdle();
      expect(receiver.requestsTo(path)).toHaveLength(3);
      expect((await bus.deadLetters.list({ subscriber: `webhooks.${hook.id}` })).items).toEqual([]);
    } finally {
      receiver.respond = respond;
    }
  });

  it('when the receiver always fails or never answers, then after maxAttempts the event is dead-lettered, listed by the bus and recorded', async () => {
    const path = freshPath();
    const respond = receiver.respond;
    receiver.respond = (p, n) => (p === path ? 500 : respond(p, n));
    // Nothing listens on this port once the probe server is closed: connection refused.
    const probe = await startReceiver();
    const deadUrl = `${probe.url}/nobody-home`;
    await probe.close();
    try {
      const failing = await registerOk(path);
      const r = await register({ url: deadUrl, eventTypes: [EventTypes.resignationSubmitted] });
      expect(r.status).toBe(201);
      const unreachable = RegisteredWebhook.parse(r.body);
      const event = resignationSubmitted();
      await publish(event);

      for (const hook of [failing, unreachable]) {
        const [letter] = await waitFor(async () => {
          const items = (await bus.deadLetters.list({ subscriber: `webhooks.${hook.id}` })).items;
          return items.length > 0 ? items : undefined;
        }, `the dead letter of ${hook.url}`, 40_000);
        expect(letter).toMatchObject({ eventId: event.id, eventType: event.type, attempts: 3 });
        const records = await waitFor(async () => {
          const items = await deliveries(hook.id);
          return items.some((i) => i.outcome === 'dead-lettered') ? items : undefined;
        }, 'the dead-letter record');
        expect(records.map((i) => i.outcome)).toEqual(['failed', 'failed', 'failed', 'dead-lettered']);
        expect(records.every((i) => i.eventId === event.id)).toBe(true);
      }
      expect(receiver.requestsTo(path)).toHaveLength(3);
      const refused = await deliveries(unreachable.id);
      expect(refused[0]!.statusCode).toBeNull();
      expect(refused[0]!.error).toMatch(/ECONNREFUSED/);
    } finally {
      receiver.respond = respond;
    }
  });

  it('when a webhook is deleted, then its deliveries stop — new events and pending retries alike — while other webhooks still get theirs', async () => {
    const doomedPath = freshPath();
    const controlPath = freshPath();
    const respond = receiver.respond;
    // The doomed receiver fails its first event, so a retry is pending when the webhook is deleted.
    receiver.respond = (p, n) => (p === doomedPath ? 500 : respond(p, n));
    try {
      const doomed = await registerOk(doomedPath);
      await registerOk(controlPath);
      const first = resignationSubmitted();
      await publish(first);
      await waitFor(() => (receiver.requestsTo(doomedPath).length === 1 && receiver.requestsTo(controlPath).length === 1 ? true : undefined), 'the first event at both receivers');

      const del = await call('DELETE', WebhookPaths.webhook(doomed.id));
      expect(del.status).toBe(204);
      expect((await call('DELETE', WebhookPaths.webhook(doomed.id))).status).toBe(204);
      expect((await call('GET', WebhookPaths.webhook(doomed.id))).status).toBe(404);
      const list = WebhookList.parse((await call('GET', `${WebhookPaths.webhooks}?limit=500`)).body);
      expect(list.items.map((w) => w.id)).not.toContain(doomed.id);
      const routes = await pool.query('SELECT 1 FROM bus.subscription WHERE name = $1', [`webhooks.${doomed.id}`]);
      expect(routes.rowCount).toBe(0);

      const second = resignationSubmitted();
      await publish(second);
      await waitFor(() => (receiver.requestsTo(controlPath).length === 2 ? true : undefined), 'the second event at the control receiver');
      // Barrier: nothing is left on its way to the deleted webhook — its pending retry was dropped with it,
      // and the second event never queued for it (either would be delivered, or block this, until it ran).
      await bus.settled(`webhooks.${doomed.id}`);
      expect(receiver.requestsTo(doomedPath).map((r) => r.headers['webhook-id'])).toEqual([first.id]);
      expect((await bus.deadLetters.list({ subscriber: `webhooks.${doomed.id}` })).items).toEqual([]);
      // Its history stays readable.
      expect((await deliveries(doomed.id)).map((d) => d.outcome)).toEqual(['failed']);
    } finally {
      receiver.respond = respond;
    }
  });

  it('when a webhook\'s public-looking name resolves to loopback, then nothing is delivered: the attempt is recorded as refused, and the event is dead-lettered at once, not retried', async () => {
    const strict = await startStrictService();
    const path = freshPath();
    try {
      // Registration does not resolve names (they may change any time): the name itself is public-looking.
      const r = await register({ url: `http://${REBOUND_NAME}:${new URL(receiver.url).port}${path}`, eventTypes: [EventTypes.resignationSubmitted] }, {}, strict.base);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const hook = RegisteredWebhook.parse(r.body);
      const asked = resolvedNames.length;
      const event = resignationSubmitted();
      await publish(event);

      const [letter] = await waitFor(async () => {
        const items = (await bus.deadLetters.list({ subscriber: `webhooks.${hook.id}` })).items;
        return items.length > 0 ? items : undefined;
      }, 'the dead letter of the refused webhook', 40_000);
      expect(letter).toMatchObject({ eventId: event.id, attempts: 1 });
      expect(letter!.reason).toMatch(/refused: rebound\.ems-webhooks\.example\.com resolves to internal address 127\.0\.0\.1/);
      const records = await waitFor(async () => {
        const items = await deliveries(hook.id);
        return items.some((i) => i.outcome === 'dead-lettered') ? items : undefined;
      }, 'the dead-letter record');
      expect(records.map((i) => [i.attempt, i.outcome, i.statusCode])).toEqual([
        [1, 'failed', null],
        [0, 'dead-lettered', null],
      ]);
      expect(records[0]!.error).toMatch(/^refused: rebound\.ems-webhooks\.example\.com resolves to internal address 127\.0\.0\.1: loopback \(127\.0\.0\.0\/8\); webhooks reach only public addresses/);
      // The name was resolved once, and the receiver listening on that very address got nothing.
      expect(resolvedNames.slice(asked).filter((n) => n === REBOUND_NAME)).toHaveLength(1);
      expect(receiver.requestsTo(path)).toEqual([]);
      await call('DELETE', WebhookPaths.webhook(hook.id));
    } finally {
      await strict.close();
    }
  });

  it('when private targets are allowed and a webhook names a host, then the event goes to the address that name resolved to, with the name as Host', async () => {
    const path = freshPath();
    const port = new URL(receiver.url).port;
    const r = await register({ url: `http://${PINNED_NAME}:${port}${path}`, eventTypes: [EventTypes.resignationSubmitted] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const hook = RegisteredWebhook.parse(r.body);
    const event = resignationSubmitted();
    await publish(event);
    const [got] = await waitFor(() => (receiver.requestsTo(path).length > 0 ? receiver.requestsTo(path) : undefined), 'the delivery by name');
    expect(got!.headers.host).toBe(`${PINNED_NAME}:${port}`);
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(verifyWebhookSignature(hook.secret!, got!.headers, got!.body)).toBe(true);
    await call('DELETE', WebhookPaths.webhook(hook.id));
  });

  it('when EMS restarts, then every stored webhook is subscribed again and receives events', async () => {
    const path = freshPath();
    const hook = await registerOk(path);
    await restartService();

    const event = resignationSubmitted();
    await publish(event);
    const [got] = await waitFor(() => (receiver.requestsTo(path).length > 0 ? receiver.requestsTo(path) : undefined), 'the delivery after the restart');
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(verifyWebhookSignature(hook.secret!, got!.headers, got!.body)).toBe(true);
  });
});

describe('webhook secrets at rest', () => {
  it('when a webhook is registered, then the stored column holds a ciphertext bound to it, no log line has the secret, and a delivery verifies with the secret from the creating answer', async () => {
    const path = freshPath();
    const hook = await registerOk(path);
    expect(hook.secret).toMatch(/^whsec_/);

    const stored = await storedSecret(hook.id);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(hook.secret);
    expect(stored).not.toContain('whsec_');
    // Encrypted with the installation's key, bound to this webhook.
    expect(secrets.decrypt(stored, `webhooks.secret:${hook.id}`)).toBe(hook.secret);

    const event = resignationSubmitted();
    await publish(event);
    const [got] = await waitFor(() => (receiver.requestsTo(path).length > 0 ? receiver.requestsTo(path) : undefined), 'the webhook delivery');
    expect(verifyWebhookSignature(hook.secret!, got!.headers, got!.body)).toBe(true);
    await waitFor(async () => ((await deliveries(hook.id)).some((d) => d.outcome === 'delivered') ? true : undefined), 'the delivery record');

    const logged = serviceLog.text();
    expect(logged).toContain('webhook registered');
    expect(logged).toContain(hook.id);
    expect(logged).not.toContain(hook.secret);
    expect(logged).not.toContain(stored);
  });

  it('when GET /api/webhooks and GET /api/webhooks/{id} are called, then no secret appears anywhere in the answers', async () => {
    const hook = await registerOk(freshPath());
    const stored = await storedSecret(hook.id);
    const one = await call('GET', WebhookPaths.webhook(hook.id));
    const list = await call('GET', `${WebhookPaths.webhooks}?limit=500`);
    expect(one.status).toBe(200);
    expect(list.status).toBe(200);
    expect(WebhookList.parse(list.body).items.map((w) => w.id)).toContain(hook.id);
    for (const answer of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      expect(answer).not.toContain(hook.secret);
      expect(answer).not.toContain(stored);
      expect(answer).not.toContain('whsec_');
      expect(answer).not.toMatch(/"secret/i);
    }
  });

  it('when an earlier release stored a secret in plain text, then migration 2 keeps it, the service encrypts it when it starts, and deliveries still verify with it', async () => {
    // The upgrade itself, on its own database: a row of release 1, then migration 2.
    const oldDb = await createTestDatabase(inject('testServerUrl'), 'webhooks-v1');
    const oldPool = createPool(oldDb.url, { max: 2 });
    try {
      await migrate(oldPool, service.schema, service.migrations.filter((m) => m.version === 1));
      const plain = newWebhookSecret();
      await oldPool.query(`INSERT INTO webhooks.webhooks (id, url, event_types, secret, created_at) VALUES ($1, 'http://127.0.0.1:9/old', '{x}', $2, now())`, [randomUUID(), plain]);
      await migrate(oldPool, service.schema, service.migrations);
      const kept = await oldPool.query<{ secret_encrypted: string }>('SELECT secret_encrypted FROM webhooks.webhooks');
      expect(kept.rows).toEqual([{ secret_encrypted: plain }]);
      // Anything but a ciphertext or a plain secret is refused.
      await expect(oldPool.query(`UPDATE webhooks.webhooks SET secret_encrypted = 'something else'`)).rejects.toThrow(/webhooks_secret_format/);
    } finally {
      await oldPool.end();
      await oldDb.drop();
    }

    // Here: rows as migration 2 leaves them (a live one and a deleted one), then EMS restarts.
    const path = freshPath();
    const live = { id: randomUUID(), secret: newWebhookSecret() };
    const deleted = { id: randomUUID(), secret: newWebhookSecret() };
    await pool.query(
      `INSERT INTO webhooks.webhooks (id, url, event_types, description, secret_encrypted, created_at, deleted_at)
       VALUES ($1, $2, $3, 'from release 1', $4, now(), NULL), ($5, $6, $3, 'from release 1', $7, now(), now())`,
      [live.id, receiver.url + path, [EventTypes.resignationSubmitted], live.secret, deleted.id, receiver.url + freshPath(), deleted.secret],
    );
    await restartService();

    for (const row of [live, deleted]) {
      const stored = await storedSecret(row.id);
      expect(stored).toMatch(/^v1\./);
      expect(stored).not.toContain(row.secret);
      expect(secrets.decrypt(stored, `webhooks.secret:${row.id}`)).toBe(row.secret);
    }
    const event = resignationSubmitted();
    await publish(event);
    const [got] = await waitFor(() => (receiver.requestsTo(path).length > 0 ? receiver.requestsTo(path) : undefined), 'the delivery to the webhook of release 1');
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(verifyWebhookSignature(live.secret, got!.headers, got!.body)).toBe(true);

    const logged = serviceLog.text();
    expect(logged).toContain('encrypted the webhook secrets an earlier release stored in plain text');
    expect(logged).not.toContain(live.secret);
    expect(logged).not.toContain(deleted.secret);
  });

  it('when a ciphertext is moved to another webhook\'s row, then it does not decrypt there: the delivery fails with a clear error and nothing is sent', async () => {
    const donor = await registerOk(freshPath());
    const path = freshPath();
    const victim = await registerOk(path);
    await pool.query('UPDATE webhooks.webhooks SET secret_encrypted = $1 WHERE id = $2', [await storedSecret(donor.id), victim.id]);

    await publish(resignationSubmitted());
    const [failed] = await waitFor(async () => {
      const items = await deliveries(victim.id);
      return items.length > 0 ? items : undefined;
    }, 'the failed delivery record');
    expect(failed).toMatchObject({ outcome: 'failed', statusCode: null });
    expect(failed!.error).toMatch(/signing secret of webhook .* does not decrypt/);
    expect(receiver.requestsTo(path)).toEqual([]);
    await call('DELETE', WebhookPaths.webhook(victim.id));
  });
});
