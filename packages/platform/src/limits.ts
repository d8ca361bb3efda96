import { BlockList, isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import helmet from 'helmet';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import { sendProblem } from './problem.ts';
import type { App } from './http-app.ts';

/**
 * What one HTTP server refuses to be made to do: more requests than a caller's share, a request that
 * takes too long to arrive, a Host it does not answer to (DNS rebinding), a cross-origin read nobody
 * configured. Every refusal is problem+json; health is never limited or refused, so probes keep working.
 */

/** The largest request body a service reads (and the gateway forwards). */
export const HTTP_BODY_LIMIT = 256 * 1024;

export interface HttpLimits {
  rate: {
    windowMs: number;
    /** Requests per window from one client address (before authentication); 0 = no limit. */
    perAddress: number;
    /** Requests per window by one person (whatever credential they use); 0 = no limit. */
    perIdentity: number;
    /** Requests per window by one service identity (service-to-service calls); 0 = no limit. */
    perService: number;
    /** Client addresses never limited per address: addresses or CIDR blocks (`127.0.0.0/8`, `::1`). */
    exemptAddresses: readonly string[];
  };
  timeouts: {
    /** The request line and headers must arrive within this. */
    headersMs: number;
    /** The whole request (headers and body) must arrive within this. */
    requestMs: number;
    /** An idle keep-alive connection is closed after this. */
    keepAliveMs: number;
    /** A connection on which nothing moves this long is closed (longer than any wait a request may ask for). */
    idleMs: number;
  };
  /**
   * Host header values answered (`name` any port, `name:port` that port only); undefined = any host.
   * `*` in the list also means any host.
   */
  allowedHosts: readonly string[] | undefined;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDR blocks): the fleet's gateway on this host by default. */
  trustedProxies: readonly string[];
  /** Origins allowed to read answers cross-origin (exact `scheme://host[:port]`); empty = CORS off. */
  corsOrigins: readonly string[];
  /** Served to browsers over https: Strict-Transport-Security is sent. */
  https: boolean;
}

export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;
export const LOOPBACK_ADDRESSES = ['127.0.0.0/8', '::1'] as const;

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  rate: { windowMs: 60_000, perAddress: 1_200, perIdentity: 60_000, perService: 0, exemptAddresses: LOOPBACK_ADDRESSES },
  timeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, idleMs: 60_000 },
  allowedHosts: undefined,
  trustedProxies: LOOPBACK_ADDRESSES,
  corsOrigins: [],
  https: false,
};

/** Health answers whatever the limits: orchestrators and load balancers probe by address. */
const HEALTH = /^\/(healthz|readyz)(\?|$)/;
/** Public and read-only, fetched by address by the fleet's gateway: answered whatever the Host. */
const ANY_HOST = /^\/(healthz|readyz|openapi\.json)(\?|$)/;

/** The Fastify server options the timeouts come down to. */
export function serverTimeouts(t: HttpLimits['timeouts']) {
  return {
    connectionTimeout: t.idleMs,
    keepAliveTimeout: t.keepAliveMs,
    requestTimeout: t.requestMs,
    // Node checks the header and request deadlines on this interval (30 s by default): a short deadline needs a short check.
    http: { headersTimeout: t.headersMs, connectionsCheckingInterval: Math.max(100, Math.min(t.headersMs, t.requestMs, 5_000) / 4) },
  };
}

/** The address a request came from: the socket's, or — from a trusted proxy (the fleet's gateway) — the one it forwarded. */
export function clientAddress(req: FastifyRequest, trustedProxies: BlockList): string {
  const peer = normaliseAddress(req.raw.socket.remoteAddress ?? '');
  if (!matches(trustedProxies, peer)) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  // The last entry is the one the proxy added; earlier ones are whatever the client sent.
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((s) => s.trim()).filter(Boolean).at(-1);
  return last && isIP(normaliseAddress(last)) ? normaliseAddress(last) : peer;
}

function normaliseAddress(a: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return (mapped ? mapped[1]! : a).toLowerCase();
}

/** A list of addresses and CIDR blocks; throws on an entry that is neither. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (!family || (bits !== undefined && !/^\d{1,3}$/.test(bits))) throw new Error(`"${entry}" is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

function matches(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Whether a Host header value is in the allow-list (`name` matches any port; `name:port` that port). */
export function hostAllowed(allowed: readonly string[], host: string | undefined): boolean {
  if (allowed.includes('*')) return true;
  if (!host) return false;
  const h = host.trim().toLowerCase().replace(/\.(?=(:\d+)?$)/, '');
  const name = h.replace(/:\d+$/, '');
  return allowed.some((a) => a === h || a === name);
}

function tooMany(reply: FastifyReply, retryAfterSeconds: number, detail: string): FastifyReply {
  return sendProblem(reply.header('retry-after', String(Math.max(1, retryAfterSeconds))), {
    type: 'https://ems.dev/problems/rate-limited',
    title: 'Too Many Requests',
    status: 429,
    detail,
  });
}

export interface InstalledLimits {
  /** Counts a request against its identity's share (after admission); answers 429 when it is spent. */
  identity(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

/**
 * Installs the refusals that come before anything else on `app` (Host, then the per-address rate), the
 * security headers and CORS. Returns the per-identity limit, which the admission hook calls once it knows who is asking.
 */
export async function installLimits(app: App, limits: HttpLimits): Promise<InstalledLimits> {
  const { allowedHosts, rate } = limits;
  // The security headers, on every answer (also those of the built-in provider, which writes its own).
  // helmet itself, built once, where @fastify/helmet built a new one — every option parsed, the CSP written
  // out — for each request, behind two async hooks: 8 µs against 0.5 µs a request alone, 2.2 % of the
  // service thread's own samples in an orchestrated burst, where each case is five requests or more.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'frame-ancestors': ["'none'"],
        'form-action': ["'self'"],
        'upgrade-insecure-requests': limits.https ? [] : null,
      },
    },
    strictTransportSecurity: limits.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (req, reply, done) => {
    securityHeaders(req.raw, reply.raw, () => done());
  });

  // Off unless origins are configured: then exactly those, with credentials (the session cookie).
  if (limits.corsOrigins.length) {
    // Its preflight route answers anyone: nothing to admit.
    app.addHook('onRoute', (route) => {
      if (route.method === 'OPTIONS' && route.url === '*') route.config = { ...route.config, public: true };
    });
    const origins = new Set(limits.corsOrigins);
    await app.register(cors, {
      origin: (origin, cb) => cb(null, origin !== undefined && origins.has(origin)),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'prefer', 'x-csrf-token', 'x-request-id'],
      exposedHeaders: ['location', 'retry-after', 'etag', 'x-request-id'],
      maxAge: 600,
    });
  }

  if (allowedHosts) {
    app.addHook('onRequest', async (req, reply) => {
      if (ANY_HOST.test(req.url) || hostAllowed(allowedHosts, req.headers.host)) return;
      return sendProblem(reply.header('connection', 'close'), {
        type: 'https://ems.dev/problems/unknown-host',
        title: 'Misdirected Request',
        status: 421,
        detail: `This server does not answer to the host ${JSON.stringify(req.headers.host ?? '')}; see EMS_ALLOWED_HOSTS`,
      });
    });
  }

  await app.register(rateLimit, { global: false });
  const exempt = addressList(rate.exemptAddresses);
  const proxies = addressList(limits.trustedProxies);
  const clientOf = (req: FastifyRequest) => clientAddress(req, proxies);
  if (rate.perAddress > 0) {
    const perAddress = app.createRateLimit({
      max: rate.perAddress,
      timeWindow: rate.windowMs,
      // An IPv6 client holds a whole /56 at least: count it as one.
      keyGenerator: (req) => `address:${normalizeIP(clientOf(req), 56)}`,
      allowList: (req) => HEALTH.test(req.url) || matches(exempt, clientOf(req)),
    });
    app.addHook('onRequest', async (req, reply) => {
      const r = await perAddress(req);
      if (!r.isAllowed && r.isExceeded) return tooMany(reply, r.ttlInSeconds, `More than ${rate.perAddress} requests from ${clientOf(req)} within ${rate.windowMs / 1000} s; see EMS_RATE_LIMIT_PER_ADDRESS`);
    });
  }

  const perIdentity = app.createRateLimit({
    max: (req) => (req.permit.principal.kind === 'service' ? rate.perService : rate.perIdentity),
    timeWindow: rate.windowMs,
    keyGenerator: (req) => `${req.permit.principal.kind}:${req.permit.principal.id}`,
    allowList: (req) => (req.permit.principal.kind === 'service' ? rate.perService : rate.perIdentity) <= 0,
  });
  return {
    async identity(req, reply) {
      const r = await perIdentity(req);
      if (r.isAllowed || !r.isExceeded) return undefined;
      const { kind, id } = req.permit.principal;
      return tooMany(reply, r.ttlInSeconds, `More than ${r.max} requests by ${kind === 'service' ? `the ${id} service` : id} within ${rate.windowMs / 1000} s; see ${kind === 'service' ? 'EMS_RATE_LIMIT_PER_SERVICE' : 'EMS_RATE_LIMIT_PER_IDENTITY'}`);
    },
  };
}
