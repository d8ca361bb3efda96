import { NoAnswerError, outboundRequest, signWebhook, TargetRefusedError, type HostResolver } from '@ems/platform';
import { ConnectorError, type Connector, type ConnectorChange, type ConnectorOutcome } from '../connector.ts';

/**
 * The signed HTTP connector: for a system EMS has no protocol for, one POST per change to the
 * system's own endpoint, which carries it out and acknowledges it.
 *
 *   POST <url>
 *   content-type: application/json
 *   idempotency-key: <changeId>           the same on every retry of this change
 *   webhook-id: <changeId>
 *   webhook-timestamp: <unix seconds>     of this attempt
 *   webhook-signature: v1=<hex HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<raw body>")>
 *
 *   { "changeId", "action": "suspend"|"restore"|"revoke", "account": { "employeeId", "email" },
 *     "entitlements": [ … ], "system": "<system id>" }
 *
 * Signed exactly as EMS's webhooks are (@ems/platform webhook-signature.ts), so one receiver library
 * checks both. The receiver answers 2xx once the change is made (optionally `{ "verification": "…" }`,
 * which the case and the audit show), within the timeout.
 *
 *   transient  no answer in time, connection refused or reset, 5xx, 408, 429
 *   permanent  any other answer (4xx; a 3xx, since redirects are not followed), or a target refused
 *              as internal (nothing sent)
 */
export interface HttpConnectorOptions {
  systemId: string;
  url: string;
  secret: string;
  timeoutMs: number;
  allowPrivateTargets: boolean;
  ca?: string;
  /** Default: the system resolver (tests map names to addresses). */
  resolve?: HostResolver;
  /** The signing clock (default: now). */
  now?: () => Date;
}

export const HTTP_CONNECTOR_USER_AGENT = 'EMS-Access-Connector/1.0';
const MAX_VERIFICATION_CHARS = 500;

export class HttpConnector implements Connector {
  readonly type = 'http' as const;
  private readonly options: HttpConnectorOptions;

  constructor(options: HttpConnectorOptions) {
    this.options = options;
  }

  async apply(change: ConnectorChange, signal: AbortSignal): Promise<ConnectorOutcome> {
    const { url, secret, systemId } = this.options;
    const body = JSON.stringify({
      changeId: change.changeId,
      action: change.action,
      account: { employeeId: change.account.employeeId, email: change.account.email },
      entitlements: change.entitlements,
      system: systemId,
    });
    const at = Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': HTTP_CONNECTOR_USER_AGENT,
      'idempotency-key': change.changeId,
      ...signWebhook(secret, change.changeId, at, body),
    };

    let answer;
    try {
      answer = await outboundRequest(url, {
        method: 'POST',
        headers,
        body,
        timeoutMs: this.options.timeoutMs,
        allowPrivateTargets: this.options.allowPrivateTargets,
        refusalHint: '; the signed HTTP connector reaches only public addresses unless allowPrivateTargets is true',
        signal,
        maxBodyBytes: 64 * 1024,
        ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
        ...(this.options.resolve === undefined ? {} : { resolve: this.options.resolve }),
      });
    } catch (err) {
      if (err instanceof TargetRefusedError) throw new ConnectorError(err.message, { transient: false, code: 'target_refused', cause: err });
      const e = err as NoAnswerError;
      if (e instanceof NoAnswerError && e.aborted) {
        throw new ConnectorError(`POST ${origin(url)}: abandoned (Access's deadline for this change passed, or EMS is stopping)`, { transient: true, code: 'aborted', cause: err });
      }
      const code = e instanceof NoAnswerError && e.timedOut ? 'timeout' : 'no_answer';
      const message = code === 'timeout' ? `no acknowledgement within ${this.options.timeoutMs} ms` : e.message;
      throw new ConnectorError(`POST ${origin(url)}: ${message}`, { transient: true, code, cause: err });
    }

    const { status } = answer;
    if (status >= 200 && status < 300) {
      const said = verificationOf(answer.body);
      return { verification: said ?? `${origin(url)} acknowledged change ${change.changeId} with HTTP ${status}` };
    }
    const transient = status >= 500 || status === 408 || status === 429;
    const detail = problemDetail(answer.body);
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    throw new ConnectorError(`POST ${origin(url)} answered HTTP ${status}${redirect}${detail ? `: ${detail}` : ''}`, { transient, code: String(status) });
  }

  async close(): Promise<void> {
    // Each request opens its own connection (outboundRequest): nothing is held open.
  }
}

/** Scheme, host and path: the URL without a query, which may carry a token of the receiver's. */
function origin(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function verificationOf(text: string): string | undefined {
  const body = parse(text) as { verification?: unknown } | undefined;
  const said = typeof body === 'object' && body !== null && typeof body.verification === 'string' ? body.verification.trim() : '';
  return said ? clip(said) : undefined;
}

/** An RFC 9457 problem's detail or title, or the start of a text body. */
function problemDetail(text: string): string {
  const body = parse(text) as { detail?: unknown; title?: unknown } | undefined;
  if (typeof body === 'object' && body !== null) {
    if (typeof body.detail === 'string') return clip(body.detail);
    if (typeof body.title === 'string') return clip(body.title);
    return '';
  }
  return clip(text.trim());
}

const clip = (text: string) => (text.length > MAX_VERIFICATION_CHARS ? `${text.slice(0, MAX_VERIFICATION_CHARS)}…` : text).replace(/\s+/g, ' ');
