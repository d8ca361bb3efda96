import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isRefusal, type Refusal, type RefusalKind } from './refusal.ts';

/** RFC 9457 problem details. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });
export type Problem = z.infer<typeof ProblemSchema>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Throw from a use case or route to answer with a problem+json response. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, detail: string, options: { type?: string; title?: string; extra?: Record<string, unknown> } = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.title = options.title ?? TITLES[status] ?? 'Error';
    this.type = options.type ?? (status === 500 ? 'about:blank' : `https://ems.dev/problems/${slug(this.title)}`);
    this.extra = options.extra ?? {};
  }
  toJSON(instance?: string): Problem {
    return { type: this.type, title: this.title, status: this.status, detail: this.message, ...(instance ? { instance } : {}), ...this.extra };
  }
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/(^-|-$)/g, '');
}

export const notFound = (detail: string) => new HttpProblem(404, detail);
export const conflict = (detail: string, extra?: Record<string, unknown>) => new HttpProblem(409, detail, extra ? { extra } : {});
export const badRequest = (detail: string) => new HttpProblem(400, detail, { type: 'https://ems.dev/problems/validation', title: 'Invalid request' });

/** The one mapping of a use case's refusal (refusal.ts) to HTTP: its status, and its facts as problem members. */
const REFUSAL_STATUS: Record<RefusalKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  'not-allowed': 422,
  upstream: 502,
  unavailable: 503,
};

export function refusalProblem(refusal: Refusal): HttpProblem {
  // An invalid request reads as every other validation problem (the schema's own 400s) unless it names its type.
  const invalid = refusal.kind === 'invalid';
  const type = refusal.type ?? (invalid ? 'https://ems.dev/problems/validation' : undefined);
  const title = refusal.title ?? (invalid ? 'Invalid request' : undefined);
  return new HttpProblem(REFUSAL_STATUS[refusal.kind], refusal.message, {
    ...(type !== undefined ? { type } : {}),
    ...(title !== undefined ? { title } : {}),
    extra: { ...refusal.detail, ...(refusal.issues.length > 0 ? { errors: refusal.issues.map((i) => ({ path: i.path, message: i.message })) } : {}) },
  });
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.status(problem.status).type('application/problem+json').send(problem);
}

/**
 * Fastify's router answers a malformed URL (a bad percent-escape, a path parameter past its length) before any
 * hook or error handler runs; this makes those answers problem+json too (Fastify's `frameworkErrors` option).
 */
export function frameworkProblem(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const path = req.url.split('?')[0] ?? '';
  void sendProblem(reply, {
    type: 'https://ems.dev/problems/validation',
    title: 'Invalid request',
    status,
    detail: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long' : 'The URL is not valid (a malformed percent-escape, or bytes that are not UTF-8)',
    errors: [{ path: 'url', message: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'is not a valid URL' }],
    // The path as received when it is plain printable ASCII (what a URL on the wire is); otherwise left out.
    ...(/^[\x21-\x7e]{1,500}$/.test(path) ? { instance: path } : {}),
  });
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a header section too large, a malformed request
 * line, a client too slow) is answered in problem+json too, then the connection closed (Fastify's
 * `clientErrorHandler` option; its default answers in a JSON of its own).
 */
export function clientProblem(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large']
        : [400, 'The request is not valid HTTP'];
  const title = TITLES[status] ?? 'Error';
  const body = JSON.stringify({ type: status === 400 ? 'https://ems.dev/problems/validation' : `https://ems.dev/problems/${slug(title)}`, title, status, detail });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/problem+json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/** Every error leaves the server as problem+json; internals are logged, never sent. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, new HttpProblem(404, `No route for ${req.method} ${req.url.split('?')[0]}`).toJSON(req.url)),
  );
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const instance = req.url.split('?')[0];
    if (err instanceof HttpProblem) return sendProblem(reply, err.toJSON(instance));
    if (isRefusal(err)) return sendProblem(reply, refusalProblem(err).toJSON(instance));
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.map((v) => ({
        path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`,
        message: v.message ?? 'invalid',
      }));
      return sendProblem(reply, {
        type: 'https://ems.dev/problems/validation',
        title: 'Invalid request',
        status: 400,
        detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        instance,
        errors,
      });
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ err }, 'response did not match its schema');
      return sendProblem(reply, new HttpProblem(500, 'The server produced an invalid response').toJSON(instance));
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'unhandled error');
      return sendProblem(reply, new HttpProblem(500, 'Internal error; see the server log').toJSON(instance));
    }
    // Fastify's own client errors (malformed JSON, wrong content type, body too large).
    return sendProblem(reply, new HttpProblem(status, err.message, status === 400 ? { type: 'https://ems.dev/problems/validation', title: 'Invalid request' } : {}).toJSON(instance));
  });
}
