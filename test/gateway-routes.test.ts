/**
 * Who the fleet's gateway sends a path to: the routes it learns from each service's /openapi.json, plus the
 * identity service's prefixes that are not (all) in its OpenAPI paths — the sign-in flow, the built-in provider
 * and SCIM. Real sockets: two stand-in replicas that publish a few paths and answer every request with their name.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@ems/platform';
import { learnRoutes, startGateway } from '../packages/server/src/cli/gateway.ts';
import type { ServiceName } from '../packages/server/src/config.ts';

async function standIn(service: ServiceName, paths: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/openapi.json' ? { paths: Object.fromEntries(paths.map((p) => [p, {}])) } : { service, path: req.url, bytes }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server };
}

describe('the gateway’s routes', () => {
  const stops: Array<() => Promise<void>> = [];
  let gateway: string;

  beforeAll(async () => {
    const identity = await standIn('identity', ['/api/me', '/scim/v2/Users', '/scim/v2/Users/{id}', '/api/directory/imports']);
    const ems = await standIn('ems', ['/api/resignations', '/api/resignations/{id}']);
    for (const s of [identity, ems]) stops.push(() => new Promise((resolve) => (s.server.closeAllConnections(), s.server.close(() => resolve()))));
    const upstreams = new Map<ServiceName, string[]>([['identity', [identity.url]], ['ems', [ems.url]]]);
    const routes = await learnRoutes([...upstreams].map(([service, urls]) => ({ service, url: urls[0]! })), 10_000);
    const port = await freePort();
    const running = await startGateway({ port, host: '127.0.0.1', routes, upstreams: (s) => upstreams.get(s) ?? [] });
    stops.push(() => running.stop());
    gateway = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  const servedBy = async (path: string) => ((await (await fetch(`${gateway}${path}`)).json()) as { service: string }).service;

  it('when a SCIM client calls any path under /scim — one the identity service publishes or not — then the identity service answers it', async () => {
    expect(await servedBy('/scim/v2/Users?filter=userName%20eq%20%22ada%40example.com%22')).toBe('identity');
    expect(await servedBy('/scim/v2/Users/E1001')).toBe('identity');
    // Not in identity's OpenAPI paths: still identity's (its SCIM 404), never EMS's problem+json.
    expect(await servedBy('/scim/v2/ServiceProviderConfig')).toBe('identity');
    expect(await servedBy('/scim/v2/NoSuchResource')).toBe('identity');
    expect(await servedBy('/scim')).toBe('identity');
  });

  it('when a path only looks like SCIM’s, or is another service’s, then it goes where it did before', async () => {
    expect(await servedBy('/scimitar')).toBe('ems');
    expect(await servedBy('/api/resignations/R1')).toBe('ems');
    expect(await servedBy('/api/me')).toBe('identity');
    expect(await servedBy('/auth/login')).toBe('identity');
    expect(await servedBy('/')).toBe('ems');
  });

  it('when an HR export larger than the usual body cap is imported, then the gateway forwards it whole; elsewhere the cap still holds', async () => {
    const body = 'x'.repeat(1024 * 1024);
    const imported = await fetch(`${gateway}/api/directory/imports?dryRun=true`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ service: 'identity', bytes: body.length });
    const elsewhere = await fetch(`${gateway}/api/resignations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(elsewhere.status).toBe(413);
  });
});
