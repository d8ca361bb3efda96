import { NoAnswerError, outboundRequest } from '@ems/platform';
import { ConnectorError } from '../connector.ts';

/**
 * The HTTP side of a SCIM 2.0 service provider (RFC 7644): JSON in and out, a bearer token, ETags,
 * and every failure turned into a ConnectorError with the provider's own status and scimType:
 *
 *   transient  no answer (connection refused or reset, TLS, time-out), 5xx, 408, 429
 *              (a Retry-After up to MAX_RETRY_AFTER_MS is waited for once, then it is asked again)
 *   permanent  any other 4xx (400 invalidFilter / invalidValue, 401, 403, 404, 409 uniqueness…)
 *
 * The token goes only into the Authorization header: never into a message, a log line or an error.
 */

export const SCIM_JSON = 'application/scim+json';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** A provider asking for longer than this is left to Access's own backoff. */
const MAX_RETRY_AFTER_MS = 30_000;

export interface ScimClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  ca?: string;
}

export interface ScimAnswer {
  status: number;
  /** The ETag header, or the resource's meta.version. */
  etag: string | undefined;
  body: Record<string, unknown> | undefined;
}

export interface ScimRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below the base URL, e.g. `/Users/2819c223` or `/Users?filter=…`. */
  path: string;
  body?: unknown;
  ifMatch?: string | undefined;
  /** Statuses answered rather than thrown (e.g. 404 when reading back a deleted User, 412 to re-read). */
  accept?: readonly number[];
}

export class ScimClient {
  private readonly options: ScimClientOptions;
  constructor(options: ScimClientOptions) {
    this.options = options;
  }

  async send(request: ScimRequest, signal: AbortSignal): Promise<ScimAnswer> {
    const first = await this.once(request, signal);
    const wait = first.status === 429 ? retryAfterMs(first.headers['retry-after']) : undefined;
    if (wait === undefined || wait > MAX_RETRY_AFTER_MS) return this.judge(request, first);
    await sleep(wait, signal);
    return this.judge(request, await this.once(request, signal));
  }

  private async once(request: ScimRequest, signal: AbortSignal) {
    const headers: Record<string, string> = {
      accept: `${SCIM_JSON}, application/json`,
      authorization: `Bearer ${this.options.token}`,
      'user-agent': 'EMS-Access-SCIM/1.0',
    };
    if (request.body !== undefined) headers['content-type'] = SCIM_JSON;
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
    try {
      return await outboundRequest(`${this.options.baseUrl}${request.path}`, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        timeoutMs: this.options.timeoutMs,
        // The provider is named by the operator in the systems file (often an internal host), not by an API caller.
        allowPrivateTargets: true,
        signal,
        maxBodyBytes: 8 * 1024 * 1024,
        ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
      });
    } catch (err) {
      const e = err as NoAnswerError;
      if (e instanceof NoAnswerError && e.aborted) {
        throw new ConnectorError(`SCIM ${request.method} ${pathOnly(request.path)}: abandoned (Access's deadline for this change passed, or EMS is stopping)`, { transient: true, code: 'aborted', cause: err });
      }
      const code = e instanceof NoAnswerError && e.timedOut ? 'timeout' : 'no_answer';
      throw new ConnectorError(`SCIM ${request.method} ${pathOnly(request.path)}: ${this.scrub(e.message)}`, { transient: true, code, cause: err });
    }
  }

  private judge(request: ScimRequest, answer: { status: number; headers: Record<string, string | string[] | undefined>; body: string }): ScimAnswer {
    const body = parseJson(answer.body);
    const etagHeader = answer.headers.etag;
    const version = (body?.meta as { version?: unknown } | undefined)?.version;
    const etag = typeof etagHeader === 'string' ? etagHeader : typeof version === 'string' ? version : undefined;
    if ((answer.status >= 200 && answer.status < 300) || request.accept?.includes(answer.status)) return { status: answer.status, etag, body };

    const scimType = typeof body?.scimType === 'string' ? body.scimType : undefined;
    const detail = typeof body?.detail === 'string' ? body.detail : answer.body && !isScimError(body) ? answer.body : '';
    const transient = answer.status >= 500 || answer.status === 408 || answer.status === 429;
    const retry = answer.status === 429 && answer.headers['retry-after'] ? ` (Retry-After: ${String(answer.headers['retry-after'])})` : '';
    const message = `SCIM ${request.method} ${pathOnly(request.path)} answered ${answer.status}${scimType ? ` ${scimType}` : ''}${detail ? `: ${clip(this.scrub(detail))}` : ''}${retry}`;
    throw new ConnectorError(message, { transient, code: scimType ?? String(answer.status) });
  }

  /** The token blanked out (a provider or a gateway before it may echo the request's headers in an error). */
  private scrub(text: string): string {
    return this.options.token ? text.split(this.options.token).join('***') : text;
  }
}

/** The path without its query: a filter holds a person's email, which need not be in every error. */
function pathOnly(path: string): string {
  return path.replace(/\?.*$/, '');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isScimError(body: Record<string, unknown> | undefined): boolean {
  return Array.isArray(body?.schemas) && (body.schemas as unknown[]).includes(ERROR_SCHEMA);
}

const clip = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text).replace(/\s+/g, ' ');

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ConnectorError('SCIM: aborted while waiting for Retry-After', { transient: true, code: 'aborted' }));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConnectorError('SCIM: aborted while waiting for Retry-After', { transient: true, code: 'aborted' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
