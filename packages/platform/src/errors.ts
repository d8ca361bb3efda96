/**
 * One classification of errors for everything that retries (workflow steps, event handlers): an error
 * is TRANSIENT when trying the same thing again later can succeed — the other side was down, slow,
 * busy, or lost a race — and PERMANENT when it cannot: the data is invalid, a constraint is violated,
 * a participant refused the request. A permanent error ends the reaction at once, with its reason;
 * retrying it for an hour only hides it.
 *
 *   transient  connection errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, …), timeouts and aborts,
 *              HTTP 5xx, 408, 425, 429; PostgreSQL 40001 (serialization), 40P01 (deadlock), class 08
 *              (connection), 57P01–03 (shutdown), 57014 (statement timeout), class 53 (resources)
 *   permanent  PermanentError (an explicit refusal), HTTP 4xx otherwise, zod validation failures,
 *              PostgreSQL class 22 (invalid data: 22021 a NUL byte, 22P05 an untranslatable character)
 *              and class 23 (integrity constraints)
 *
 * An error none of these rules recognise (nor its `cause`) counts as transient: retries are bounded,
 * and failing a case at once on a hiccup nobody foresaw would be worse than retrying it.
 */

/** A failure that retrying cannot cure: the reaction fails at once with this message as the reason. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export type ErrorClass = 'transient' | 'permanent';

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  'ABORT_ERR',
  // undici (fetch)
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** HTTP statuses worth retrying: the server was busy, down or timed out. Every other 4xx is final. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function sqlState(code: string): ErrorClass | undefined {
  if (code === '40001' || code === '40P01' || code === '57014') return 'transient';
  if (code === '57P01' || code === '57P02' || code === '57P03') return 'transient';
  const cls = code.slice(0, 2);
  if (cls === '08' || cls === '53') return 'transient';
  if (cls === '22' || cls === '23') return 'permanent';
  return undefined;
}

/** What this error itself says, without looking at its cause; undefined when it says nothing we know. */
function classifyOwn(err: object): ErrorClass | undefined {
  if (err instanceof PermanentError) return 'permanent';
  const e = err as { name?: unknown; code?: unknown; status?: unknown; retryable?: unknown; issues?: unknown };
  if (e.name === 'ZodError' || e.name === '$ZodError') return Array.isArray(e.issues) ? 'permanent' : undefined;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'transient';
  if (typeof e.status === 'number' && e.status >= 400 && e.status <= 599) return isTransientStatus(e.status) ? 'transient' : 'permanent';
  if (typeof e.code === 'string') {
    if (TRANSIENT_CODES.has(e.code)) return 'transient';
    if (SQLSTATE.test(e.code)) {
      const byState = sqlState(e.code);
      if (byState) return byState;
    }
  }
  // A call that says itself whether it may be retried (ServiceCallError without a status: no answer came).
  if (typeof e.retryable === 'boolean') return e.retryable ? 'transient' : 'permanent';
  return undefined;
}

/** Transient or permanent (see the table above); follows `cause` and AggregateError's errors. */
export function classifyError(err: unknown): ErrorClass {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): ErrorClass | undefined => {
    if (typeof e !== 'object' || e === null || seen.has(e) || depth > 8) return undefined;
    seen.add(e);
    const own = classifyOwn(e);
    if (own) return own;
    if (e instanceof AggregateError) {
      const inner = e.errors.map((x) => visit(x, depth + 1));
      if (inner.includes('transient')) return 'transient';
      if (inner.includes('permanent')) return 'permanent';
    }
    return visit((e as { cause?: unknown }).cause, depth + 1);
  };
  return visit(err, 0) ?? 'transient';
}

export function isTransient(err: unknown): boolean {
  return classifyError(err) === 'transient';
}

export function isPermanent(err: unknown): boolean {
  return classifyError(err) === 'permanent';
}

/**
 * The text with what PostgreSQL cannot store (a NUL, a lone UTF-16 surrogate) replaced by U+FFFD — for
 * reasons and messages we record about a failure, which may quote the very input that caused it.
 */
export function storableText(text: string): string {
  return text.replace(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** An error's message (its name first, unless a plain Error), storable. */
export function describeError(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
  else if (typeof err === 'string') text = err;
  else {
    try {
      text = JSON.stringify(err) ?? String(err);
    } catch {
      text = String(err);
    }
  }
  return storableText(text);
}
