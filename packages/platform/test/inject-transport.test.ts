import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { callJson, injectTransport, ServiceCallError, type HttpTransport, type TransportRequest } from '@ems/platform';

/**
 * A call to a service this very process serves goes into its server without a socket (injectTransport): the
 * route answers it as it would over the network — status, body, refusals — and any other URL goes over the
 * network. The server here never listens: an answer can only have come through inject.
 */
const ORIGIN = 'http://127.0.0.1:7999';

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverWithRoutes(): Promise<FastifyInstance> {
  const app = Fastify();
  app.post('/api/things', async (req, reply) => reply.status(201).send({ got: req.body, host: req.headers.host, key: req.headers['idempotency-key'] ?? null }));
  app.get('/api/refused', async (_req, reply) => reply.status(409).type('application/problem+json').send({ title: 'Conflict', status: 409, detail: 'already there' }));
  app.get('/api/broken', async (_req, reply) => reply.status(503).send({ detail: 'try later' }));
  app.get('/api/slow', async () => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 2_000)));
  return app;
}

/** A network transport that answers every request itself and keeps what it was asked. */
function recordingNetwork(): { transport: HttpTransport; asked: Array<{ url: string; request: TransportRequest }> } {
  const asked: Array<{ url: string; request: TransportRequest }> = [];
  return { asked, transport: async (url, request) => (asked.push({ url, request }), { status: 200, text: '{"over":"network"}' }) };
}

describe('calls to a service served by this process', () => {
  it('when a call names this process’s own origin, then its route answers it without the network: status, body, headers and the Host of the origin', async () => {
    server = await serverWithRoutes();
    const network = recordingNetwork();
    const transport = injectTransport(() => server, ORIGIN, network.transport);
    const answer = await callJson(`${ORIGIN}/api/things`, { body: { name: 'Ann' }, idempotencyKey: 'k-1', transport });
    expect(answer).toEqual({ got: { name: 'Ann' }, host: '127.0.0.1:7999', key: 'k-1' });
    expect(network.asked).toEqual([]);
  });

  it('when the route refuses or fails, then the caller gets the same ServiceCallError as over the network: a 409 not worth retrying, a 503 worth it', async () => {
    server = await serverWithRoutes();
    const transport = injectTransport(() => server, ORIGIN);
    const refused = await callJson(`${ORIGIN}/api/refused`, { transport }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ServiceCallError);
    expect(refused).toMatchObject({ status: 409, retryable: false, body: { detail: 'already there' } });
    const broken = await callJson(`${ORIGIN}/api/broken`, { transport }).catch((err: unknown) => err);
    expect(broken).toMatchObject({ status: 503, retryable: true });
  });

  it('when the route does not answer within the call’s timeout, then the call ends as a timeout the caller may retry', async () => {
    server = await serverWithRoutes();
    const transport = injectTransport(() => server, ORIGIN);
    const err = await callJson(`${ORIGIN}/api/slow`, { transport, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceCallError);
    expect(err).toMatchObject({ status: undefined, retryable: true });
    expect((err as Error).message).toContain('TimeoutError');
  });

  it('when a call names another origin, or the server is not there yet, then it goes over the network', async () => {
    server = await serverWithRoutes();
    const network = recordingNetwork();
    const built: { server?: FastifyInstance } = {};
    const transport = injectTransport(() => built.server, ORIGIN, network.transport);
    expect(await callJson(`${ORIGIN}/api/things`, { body: {}, transport })).toEqual({ over: 'network' });
    built.server = server;
    expect(await callJson('http://127.0.0.1:7998/api/things', { body: {}, transport })).toEqual({ over: 'network' });
    // A URL the origin is a prefix of, without being its origin.
    expect(await callJson('http://127.0.0.1:79990/api/things', { body: {}, transport })).toEqual({ over: 'network' });
    expect(network.asked.map((a) => a.url)).toEqual([`${ORIGIN}/api/things`, 'http://127.0.0.1:7998/api/things', 'http://127.0.0.1:79990/api/things']);
    expect(await callJson(`${ORIGIN}/api/things`, { body: { n: 1 }, transport })).toMatchObject({ got: { n: 1 } });
  });
});
