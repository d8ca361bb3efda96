/**
 * The API gateway of a split deployment: one URL for the whole API. Each path goes to a replica of the
 * service that serves it (round robin; the next replica is tried when one does not answer at all);
 * who serves what is read from each service's /openapi.json, so it never goes stale.
 */
import { createServer, request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { DEFAULT_HTTP_LIMITS, HTTP_BODY_LIMIT, type HttpLimits } from '@ems/platform';
import { IdentityPaths } from '@ems/contracts';
import { MAX_IMPORT_BYTES } from '@ems/identity';
import type { ServiceName } from '../config.ts';

export interface Route {
  pattern: RegExp;
  service: ServiceName;
}

/**
 * The sign-in flow, the built-in provider and the SCIM service provider: the identity service's, though not (or
 * not all) in its OpenAPI paths — under /scim even a path no route matches must get SCIM's own 404, not EMS's.
 */
const IDENTITY_PREFIXES = /^\/(oidc|signin|auth|scim)(\/|$)/;

/** Requests whose service takes a larger body than the default cap (the directory import: a whole HR export). */
const LARGER_BODIES: ReadonlyArray<{ method: string; path: string; limit: number }> = [{ method: 'POST', path: IdentityPaths.directoryImports, limit: MAX_IMPORT_BYTES }];

/** The largest body the gateway forwards for this request: the cap the service itself applies to it. */
export function bodyLimitFor(method: string | undefined, pathname: string, defaultLimit: number): number {
  return LARGER_BODIES.find((b) => b.method === method && b.path === pathname)?.limit ?? defaultLimit;
}

/** Reads each service's OpenAPI paths; most specific first (/api/employees/{id}/access before /api/employees/{id}). */
export async function learnRoutes(services: ReadonlyArray<{ service: ServiceName; url: string }>, timeoutMs = 120_000): Promise<Route[]> {
  const routes: Route[] = services.some((s) => s.service === 'identity') ? [{ pattern: IDENTITY_PREFIXES, service: 'identity' }] : [];
  for (const { service, url } of services) {
    const doc = await waitForJson<{ paths: Record<string, unknown> }>(`${url}/openapi.json`, timeoutMs);
    for (const p of Object.keys(doc.paths)) routes.push({ pattern: pathPattern(p), service });
  }
  // The identity prefixes first; then the most specific path first.
  return routes.sort((a, b) => Number(b.pattern === IDENTITY_PREFIXES) - Number(a.pattern === IDENTITY_PREFIXES) || b.pattern.source.length - a.pattern.source.length);
}

export async function startGateway(o: {
  port: number;
  host: string;
  routes: readonly Route[];
  /** Base URLs of the replicas of a service (re-read on every request: replicas may change). */
  upstreams: (service: ServiceName) => string[];
  /** The largest body forwarded: the services' own cap. */
  bodyLimit?: number;
  /** The services' header, request and idle timeouts (a trickling client is cut off here as there). */
  timeouts?: HttpLimits['timeouts'];
}): Promise<{ stop(): Promise<void> }> {
  const turn = new Map<ServiceName, number>();
  const bodyLimit = o.bodyLimit ?? HTTP_BODY_LIMIT;
  const timeouts = o.timeouts ?? DEFAULT_HTTP_LIMITS.timeouts;
  const server = createServer(
    { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: Math.max(100, Math.min(timeouts.headersMs, timeouts.requestMs, 5_000) / 4) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://gateway');
      // The landing page, docs and anything unknown: EMS.
      const service = o.routes.find((r) => r.pattern.test(url.pathname))?.service ?? 'ems';
      const targets = o.upstreams(service);
      const n = (turn.get(service) ?? 0) + 1;
      turn.set(service, n);
      forward(req, res, targets.map((_, i) => targets[(n + i) % targets.length]!), bodyLimitFor(req.method, url.pathname, bodyLimit));
    },
  );
  server.keepAliveTimeout = timeouts.keepAliveMs;
  server.setTimeout(timeouts.idleMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  return { stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** '/api/employees/{id}/access' → /^\/api\/employees\/[^/]+\/access$/ */
export function pathPattern(openApiPath: string): RegExp {
  const escaped = openApiPath
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

function problem(res: ServerResponse, status: number, title: string, detail: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'x-content-type-options': 'nosniff', ...headers });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

/**
 * Streams the request to a replica as it arrives. What has arrived is kept (never more than the cap: past
 * it the request is refused) so it can be re-sent to the next replica if one refuses the connection.
 */
function forward(req: IncomingMessage, res: ServerResponse, targets: readonly string[], bodyLimit: number): void {
  const kept: Buffer[] = [];
  let received = 0;
  let ended = false;
  let upstream: ClientRequest | undefined;
  const tooLarge = () => {
    upstream?.destroy();
    upstream = undefined;
    req.removeAllListeners('data');
    // Refused: the rest of the body is not read, and the connection is not reused.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    problem(res, 413, 'Content Too Large', `The request body is larger than ${bodyLimit} bytes`, { connection: 'close' });
    res.once('finish', () => req.socket.destroySoon());
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > bodyLimit) return tooLarge();
  if (!targets.length) return problem(res, 503, 'Service Unavailable', 'no replica of this service is configured');

  req.on('data', (c: Buffer) => {
    received += c.length;
    if (received > bodyLimit) return tooLarge();
    kept.push(c);
    upstream?.write(c);
  });
  req.on('end', () => {
    ended = true;
    upstream?.end();
  });
  // The client's address, for the services' per-address limits (they believe it from a proxy on their host only).
  const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].flat().filter(Boolean).join(', ');
  // A client gone before its answer ended (a closed tab's event stream): the replica's request goes too, or the
  // replica would keep writing into nothing — and keep counting the stream against the person.
  res.on('close', () => {
    if (!res.writableFinished) upstream?.destroy();
  });
  const attempt = (i: number) => {
    const target = new URL(targets[i]!);
    const current = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwardedFor } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream = current;
    current.on('error', (err: NodeJS.ErrnoException) => {
      if (upstream !== current) return; // given up on (a body too large)
      // Nothing reached the replica (refused / unknown host): another may take it. Anything else is the caller's to retry.
      if (!res.headersSent && (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') && i + 1 < targets.length) return attempt(i + 1);
      if (res.headersSent) return res.destroy();
      problem(res, 502, 'Bad Gateway', `${targets[i]} did not answer: ${err.message}`);
    });
    for (const c of kept) current.write(c);
    if (ended) current.end();
  };
  attempt(0);
}

export async function waitForJson<T>(url: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) return (await r.json()) as T;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
