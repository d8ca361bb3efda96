/**
 * A small JSON-over-HTTP client for service-to-service calls. It classifies failures so callers
 * (workflow steps, relays) know whether a retry can help (see errors.ts).
 */
import { isTransientStatus } from './errors.ts';

export class ServiceCallError extends Error {
  /** HTTP status, or undefined when no response arrived (connection refused, timeout). */
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly body: unknown;
  constructor(message: string, status: number | undefined, retryable: boolean, body?: unknown) {
    super(message);
    this.name = 'ServiceCallError';
    this.status = status;
    this.retryable = retryable;
    this.body = body;
  }
}

/**
 * The credentials of a call to another service: the headers to add (`authorization: Bearer …`, a token
 * issued for `target`'s audience). Built by the composition root from the caller's own service identity.
 */
export type CallAuth = (target: 'ems' | 'notification' | 'hr' | 'access') => Promise<Record<string, string>>;

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  timeoutMs?: number;
}


export async function callJson<T = unknown>(url: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(url, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ServiceCallError(`${options.method ?? 'call'} ${url} failed: ${cause}`, undefined, true);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const detail = typeof body === 'object' && body !== null && 'detail' in body ? String((body).detail) : text.slice(0, 200);
    throw new ServiceCallError(`${url} answered ${res.status}: ${detail}`, res.status, isTransientStatus(res.status), body);
  }
  return body as T;
}
