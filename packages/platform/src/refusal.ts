/**
 * A use case's "no": the one refusal type of the project, kept out of HTTP. A use case throws it (or returns it,
 * when its caller goes on using the transaction, e.g. to publish a failure event); the HTTP layer maps it to
 * problem+json in one place (problem.ts: refusalProblem), an event handler records its message. Nothing here
 * knows a status code.
 *
 * The shape is the one Access and HR already used with HttpProblem (a message, a stable problem type, facts for
 * the caller), with the status replaced by what the refusal means.
 */
export type RefusalKind =
  /** The request itself is malformed or its data is inconsistent: sending it again cannot succeed. */
  | 'invalid'
  /** Something the request names does not exist. */
  | 'not-found'
  /** The request contradicts what exists (a key reused for something else, a state that forbids it). */
  | 'conflict'
  /** The caller may not do this. */
  | 'forbidden'
  /** Well-formed, but not something this service does (a recipient or purpose it does not send to). */
  | 'not-allowed'
  /** A service this one depends on refused to answer the question (not an outage: retrying cannot help). */
  | 'upstream'
  /** A service this one depends on cannot be asked right now: retry later. */
  | 'unavailable';

/** One item of the request a refusal is about, e.g. { path: 'body.to.email', message: 'is not the manager' }. */
export interface RefusalIssue {
  path: string;
  message: string;
}

export interface RefusalOptions {
  /** A stable identifier of this refusal among its kind's (a problem type URI), e.g. HrProblemTypes.noFreeSlot. */
  type?: string;
  /** A short human title for `type`. */
  title?: string;
  /** Facts the caller may act on (ids, states), carried beside the message. */
  detail?: Record<string, unknown>;
  /** Which parts of the request are at fault. */
  issues?: readonly RefusalIssue[];
}

export class Refusal extends Error {
  readonly kind: RefusalKind;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly issues: readonly RefusalIssue[];
  constructor(kind: RefusalKind, message: string, options: RefusalOptions = {}) {
    super(message);
    this.name = 'Refusal';
    this.kind = kind;
    this.type = options.type;
    this.title = options.title;
    this.detail = options.detail ?? {};
    this.issues = options.issues ?? [];
  }
}

export function isRefusal(err: unknown): err is Refusal {
  return err instanceof Refusal;
}

/** Short constructors, one per kind: `throw refuse.conflict('…', { detail: { emailId } })`. */
export const refuse = {
  invalid: (message: string, options?: RefusalOptions) => new Refusal('invalid', message, options),
  notFound: (message: string, options?: RefusalOptions) => new Refusal('not-found', message, options),
  conflict: (message: string, options?: RefusalOptions) => new Refusal('conflict', message, options),
  forbidden: (message: string, options?: RefusalOptions) => new Refusal('forbidden', message, options),
  notAllowed: (message: string, options?: RefusalOptions) => new Refusal('not-allowed', message, options),
  upstream: (message: string, options?: RefusalOptions) => new Refusal('upstream', message, options),
  unavailable: (message: string, options?: RefusalOptions) => new Refusal('unavailable', message, options),
} as const;
