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
  /** How the request reaches the service (default: over the network, fetchTransport). */
  transport?: HttpTransport;
}

/** A request as a transport carries it: what callJson built. */
export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
}

/**
 * How a call reaches its service: its status and body, or a throw when no answer came (refused, timed out) —
 * which callJson reports as a retryable ServiceCallError.
 */
export type HttpTransport = (url: string, request: TransportRequest) => Promise<{ status: number; text: string }>;

/** Over the network: fetch, abandoned after the request's timeout. */
export const fetchTransport: HttpTransport = async (url, request) => {
  const res = await fetch(url, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(request.timeoutMs) });
  return { status: res.status, text: await res.text() };
};

/** What injectTransport needs of a Fastify server: its inject (light-my-request). */
export interface Injectable {
  inject(request: { method: string; url: string; headers: Record<string, string>; payload?: string }): Promise<{ statusCode: number; payload: string }>;
}

/**
 * Calls to a service this very process serves (the embedded default: the orchestrator calling Access, HR and
 * Notification, HR sending its invites through Notification, all on the process's own server) go into that server
 * without a socket: the same route, security, validation and limits as over the network (Fastify's inject), no
 * connection to open, accept or parse. Any other URL goes over the network.
 *
 * Why: Node accepts one new connection per turn of its event loop. In a burst, the loop busy, the orchestrator's
 * calls needed ~150 new connections to its own server at once (the idle ones closed after the warm-up): measured
 * in a burst of 2,000, each waited up to 1.9 s to be accepted, and those cases' holds made the p99 of
 * submit → suspended (0.99–2.68 s in the benchmark's bursts without this, 0.76–1.18 s with it; target ≤ 1 s).
 *
 * `server` is asked at each call (the server is built after its callers); until it is there, calls go over the
 * network. A call that outlives its timeout is answered as a timeout; the server finishes it unobserved, as it
 * would a request whose client went away.
 */
export function injectTransport(server: () => Injectable | undefined, origin: string, network: HttpTransport = fetchTransport): HttpTransport {
  const own = new URL(origin);
  const prefix = `${own.origin}/`;
  const { host } = own;
  return async (url, request) => {
    const app = server();
    if (!app || !url.startsWith(prefix)) return network(url, request);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DOMException(`no answer within ${request.timeoutMs} ms`, 'TimeoutError')), request.timeoutMs);
      timer.unref();
    });
    try {
      const res = await Promise.race([
        app.inject({ method: request.method, url: url.slice(prefix.length - 1), headers: { ...request.headers, host }, ...(request.body === null ? {} : { payload: request.body }) }),
        timedOut,
      ]);
      return { status: res.statusCode, text: res.payload };
    } finally {
      clearTimeout(timer);
    }
  };
}


export async function callJson<T = unknown>(url: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: { status: number; text: string };
  try {
    res = await (options.transport ?? fetchTransport)(url, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      timeoutMs: options.timeoutMs ?? 10_000,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ServiceCallError(`${options.method ?? 'call'} ${url} failed: ${cause}`, undefined, true);
  }
  const { text } = res;
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (res.status < 200 || res.status > 299) {
    const detail = typeof body === 'object' && body !== null && 'detail' in body ? String((body).detail) : text.slice(0, 200);
    throw new ServiceCallError(`${url} answered ${res.status}: ${detail}`, res.status, isTransientStatus(res.status), body);
  }
  return body as T;
}
