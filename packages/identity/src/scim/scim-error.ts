import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HttpProblem } from '@ems/platform';
import { SCIM, SCIM_MEDIA_TYPE } from './schemas.ts';

/** RFC 7644 §3.12's detail error keywords. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/**
 * A refusal in SCIM's error format (RFC 7644 §3.12). Under /scim EMS answers in this shape, not RFC 9457's
 * problem+json: SCIM clients (identity providers, HR systems) read `scimType` and `detail` from it.
 */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  /** Extra members (an EMS extension: `permission` on a 403, as EMS's problems carry it). */
  readonly extra: Record<string, unknown>;
  constructor(status: number, detail: string, scimType?: ScimType, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.extra = extra;
  }
  toJSON() {
    return { schemas: [SCIM.error], status: String(this.status), ...(this.scimType ? { scimType: this.scimType } : {}), detail: this.message, ...this.extra };
  }
}

export const scimNotFound = (what: string) => new ScimError(404, `${what} not found`);

export function sendScim(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.status(status).type(`${SCIM_MEDIA_TYPE}; charset=utf-8`).send(JSON.stringify(body));
}

/**
 * The error handler of the /scim routes: every refusal — authentication and the policy included, whose
 * HttpProblems are translated — leaves as a SCIM error; internals are logged, never sent.
 */
export function scimErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ScimError) return sendScim(reply, err.status, err.toJSON());
  if (err instanceof HttpProblem) {
    const permission = err.extra.permission;
    return sendScim(reply, err.status, new ScimError(err.status, err.message, undefined, typeof permission === 'string' ? { permission } : {}).toJSON());
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const detail = err.validation.map((v) => `${err.validationContext ?? 'request'}${v.instancePath.replaceAll('/', '.')}: ${v.message ?? 'invalid'}`).join('; ');
    return sendScim(reply, 400, new ScimError(400, detail, 'invalidValue').toJSON());
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) {
    req.log.error({ err }, 'unhandled error');
    return sendScim(reply, 500, new ScimError(500, 'Internal error; see the server log').toJSON());
  }
  // Fastify's own client errors: malformed JSON, a content type it does not read, a body too large.
  const scimType = status === 400 ? 'invalidSyntax' : undefined;
  return sendScim(reply, status, new ScimError(status, err.message, scimType).toJSON());
}
