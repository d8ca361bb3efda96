/**
 * The one way the app talks to EMS: the public API, same origin, as the signed-in person (the session
 * cookie). Every change carries the session's CSRF token. Errors arrive as RFC 9457 problem+json and are
 * thrown as `Problem`, so a form can put each `errors[].path` next to its field.
 *
 * Answer types come from `@ems/contracts` (type-only imports: the zod schemas the server validates with
 * are not shipped to the browser).
 */

export interface ProblemField {
  /** Where the problem is, as the server names it: `body.lastWorkingDay`, `querystring.limit`, `params.id`, `headers.x-…`. */
  path: string;
  message: string;
}

export class Problem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  readonly errors: readonly ProblemField[];
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    const detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    super(detail);
    this.name = 'Problem';
    this.status = status;
    this.title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    this.detail = detail;
    this.type = typeof body.type === 'string' ? body.type : 'about:blank';
    this.errors = Array.isArray(body.errors)
      ? body.errors.flatMap((e: unknown) => (isRecord(e) && typeof e.path === 'string' && typeof e.message === 'string' ? [{ path: e.path, message: e.message }] : []))
      : [];
    this.body = body;
  }
  /** The message for one field (`body.note`), if the server named it. */
  field(path: string): string | undefined {
    return this.errors.find((e) => e.path === path || e.path.startsWith(`${path}.`))?.message;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let csrfToken = '';
/** Set by the session once it is known. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the API says the session is gone (401): the app shows the sign-in page. */
let onSignedOut: () => void = () => undefined;
export function onSessionEnded(handler: () => void): void {
  onSignedOut = handler;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  /** Sent as Idempotency-Key: a retried submit is the same submit. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Extra headers (e.g. Accept). */
  headers?: Record<string, string>;
  /** A body sent as it is (a file's bytes) with its media type, instead of `body` as JSON. */
  raw?: { body: BodyInit; contentType: string };
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.raw) headers['content-type'] = options.raw.contentType;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const res = await fetch(withQuery(path, options.query), {
    method,
    headers,
    credentials: 'same-origin',
    ...(options.raw ? { body: options.raw.body } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { title: res.statusText, detail: text.slice(0, 500) };
  }
  if (!res.ok) {
    if (res.status === 401) onSignedOut();
    throw new Problem(res.status, isRecord(body) ? body : { title: res.statusText });
  }
  return body as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>(path, { query, ...(signal ? { signal } : {}) });
export const post = <T>(path: string, body?: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}) => request<T>(path, { ...options, method: 'POST', body: body ?? {} });
export const del = <T>(path: string) => request<T>(path, { method: 'DELETE' });

/** A fresh idempotency key for one submit (kept by the form across retries of the same submit). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
