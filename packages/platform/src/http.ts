import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { clientProblem, frameworkProblem, installProblemHandlers, sendProblem } from './problem.ts';
import type { HttpSecurity } from './security.ts';
import { DEFAULT_HTTP_LIMITS, HTTP_BODY_LIMIT, installLimits, serverTimeouts, type HttpLimits } from './limits.ts';
import type { App } from './http-app.ts';

export type { App };

/** How a service contributes its routes: a function that registers them on the shared server. */
export type RoutePlugin = (app: App) => Promise<void>;

/** A readiness probe: resolves when the dependency answers, rejects (or resolves false) otherwise. */
export type ReadinessCheck = () => Promise<boolean | void>;

export interface HttpServerOptions {
  title: string;
  version: string;
  description?: string;
  logger: FastifyBaseLogger;
  /** Plugins registering the API routes of each service mounted in this process. */
  plugins: readonly RoutePlugin[];
  readiness: Record<string, ReadinessCheck>;
  /**
   * Dependencies whose outage degrades the process without stopping it from serving (a mail server: mail is
   * queued and retried): reported by /readyz under `degraded`, never a reason to answer not ready.
   */
  health?: Record<string, ReadinessCheck>;
  /** Serve interactive API docs at /docs (default true). */
  docs?: boolean;
  /** The trust boundary: every route has a policy or is public; every request is admitted before its handler. */
  security: HttpSecurity;
  /** Until it says ready, /api answers 503 (the process is still reaching its dependencies). */
  startup?: { ready(): boolean; stage(): string };
  /** Rate limits, timeouts, the Host allow-list, CORS (default DEFAULT_HTTP_LIMITS: any Host, no CORS). */
  limits?: HttpLimits;
}

/**
 * One Fastify server with zod validation, problem+json errors, OpenAPI 3.1 at /openapi.json,
 * interactive docs at /docs, and /healthz + /readyz.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<App> {
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request would drown the story the services log; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's X-Request-Id goes into every log line of the request: only a short token of safe characters is kept.
    genReqId: (req) => {
      const id = req.headers['x-request-id'];
      return typeof id === 'string' && /^[A-Za-z0-9._:+/=-]{1,128}$/.test(id) ? id : crypto.randomUUID();
    },
    bodyLimit: HTTP_BODY_LIMIT,
    ...serverTimeouts(limits.timeouts),
    frameworkErrors: frameworkProblem,
    clientErrorHandler: clientProblem,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);
  // Before everything else: a foreign Host, a client past its share.
  const limiter = await installLimits(app, limits);
  const { security, startup } = options;

  // Deny by default: a route is public (health, docs, the sign-in flow) or has a row in the policy table.
  // The docs plugin's routes are public by where they live.
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...route.config, public: true };
    if (route.config?.public) return;
    security.checkRoute(route);
  });
  app.decorateRequest('permit');
  app.addHook('onRequest', async (req, reply) => {
    if (startup && !startup.ready() && req.url.startsWith('/api/')) {
      return sendProblem(reply.header('retry-after', '2'), { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: `EMS is starting: ${startup.stage()}` });
    }
    const route = req.routeOptions;
    // No route (404), or a public one: nothing to admit.
    if (!route.url || route.config.public) return;
    const operation = (route.schema)?.operationId;
    // checkRoute made sure every other route names its operation.
    req.permit = await security.admit(req, reply, operation ?? '');
    // Admitted: now it is known whose share the request counts against.
    if (!reply.sent) return limiter.identity(req, reply);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description ?? '' },
      components: { securitySchemes: security.openapi.securitySchemes as never },
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      const operationId = (input.schema as { operationId?: unknown }).operationId;
      const extra = typeof operationId === 'string' ? security.openapi.operation(operationId) : undefined;
      if (!extra) return out;
      const schema = out.schema as Record<string, unknown>;
      const description = [schema.description, extra.description].filter(Boolean).join('\n\n');
      return { ...out, schema: { ...schema, description, security: extra.security, ...extra.extensions } };
    },
    transformObject: jsonSchemaTransformObject,
  });
  if (options.docs !== false) {
    // Its own CSP: its scripts by their hashes; inline styles (Swagger UI sets style attributes, which a
    // style hash would not allow); never framed; no upgrade to an https EMS does not serve.
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      transformStaticCSP: (csp) => {
        const own = csp.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/style-src [^;]*/, "style-src 'self' 'unsafe-inline'");
        return limits.https ? own : own.replace(/\s*upgrade-insecure-requests;?/, '');
      },
    });
  }
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Whether the process can serve: its database and start-up (and, for information, dependencies it copes without)',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()), degraded: z.record(z.string(), z.string()) }),
          503: z.object({ status: z.literal('not ready'), checks: z.record(z.string(), z.string()), degraded: z.record(z.string(), z.string()) }),
        },
      },
    },
    async (_req, reply) => {
      const [checks, degraded] = await Promise.all([probe(options.readiness), probe(options.health ?? {})]);
      const ready = Object.values(checks).every((v) => v === 'ok');
      return ready ? { status: 'ready' as const, checks, degraded } : reply.status(503).send({ status: 'not ready' as const, checks, degraded });
    },
  );

  for (const plugin of options.plugins) await plugin(app);
  return app;
}

async function probe(all: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(
    Object.entries(all).map(async ([name, check]) => {
      try {
        const ok = await withTimeout(check(), 2_000);
        out[name] = ok === false ? 'down' : 'ok';
      } catch (err) {
        out[name] = `down: ${(err as Error).message ?? String(err)}`;
      }
    }),
  );
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
