/**
 * The API gateway of a split deployment: one URL for the whole API. Each path goes to a replica of the
 * service that serves it (round robin; the next replica is tried when one does not answer at all);
 * who serves what is read from each service's /openapi.json, so it never goes stale.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ServiceName } from '../config.ts';

export interface Route {
  pattern: RegExp;
  service: ServiceName;
}

/** The sign-in flow and the built-in provider: the identity service's, though not in its OpenAPI paths. */
const IDENTITY_PREFIXES = /^\/(oidc|signin|auth)(\/|$)/;

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
}): Promise<{ stop(): Promise<void> }> {
  const turn = new Map<ServiceName, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    // The landing page, docs and anything unknown: EMS.
    const service = o.routes.find((r) => r.pattern.test(url.pathname))?.service ?? 'ems';
    const targets = o.upstreams(service);
    const n = (turn.get(service) ?? 0) + 1;
    turn.set(service, n);
    forward(req, res, targets.map((_, i) => targets[(n + i) % targets.length]!));
  });
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

/** Buffers the (small, ≤256 KiB) request body so it can be re-sent to the next replica if one refuses the connection. */
function forward(req: IncomingMessage, res: ServerResponse, targets: readonly string[]): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const attempt = (i: number) => {
      const target = new URL(targets[i]!);
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        // Nothing reached the replica (refused / unknown host): another may take it. Anything else is the caller's to retry.
        if (!res.headersSent && (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') && i + 1 < targets.length) return attempt(i + 1);
        if (res.headersSent) return res.destroy();
        res.writeHead(502, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: `${targets[i]} did not answer: ${err.message}` }));
      });
      upstream.end(body);
    };
    if (!targets.length) {
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'no replica of this service is configured' }));
      return;
    }
    attempt(0);
  });
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
