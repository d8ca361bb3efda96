import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a receiver knows a webhook came from EMS and was not altered or replayed. The scheme follows
 * Standard Webhooks (https://www.standardwebhooks.com) in its headers and signed content:
 *
 *   webhook-id:        the event's id (the same on every retry: receivers de-duplicate on it)
 *   webhook-timestamp: when this attempt was signed, in Unix seconds
 *   webhook-signature: v1=<hex HMAC-SHA256(secret, `${webhook-id}.${webhook-timestamp}.${body}`)>
 *
 * `secret` is the whole secret string given at registration (`whsec_…`) as UTF-8 bytes, and `body`
 * the raw request body, byte for byte (verify before parsing). The header may carry several
 * space-separated signatures (e.g. during a secret rotation); one valid signature suffices.
 * Two deliberate differences from Standard Webhooks: the value is `v1=<hex>` (not `v1,<base64>`),
 * and the key is the secret string itself (not its base64-decoded tail).
 *
 * A receiver should also reject timestamps far from its clock (default tolerance: 5 minutes), which
 * bounds replays of a captured request.
 */
export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;
export const SIGNATURE_VERSION = 'v1';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new signing secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Hex HMAC-SHA256 of `${id}.${timestamp}.${body}` under the secret. */
export function webhookSignature(secret: string, id: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest('hex');
}

/** The three headers that sign one delivery attempt. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): Record<string, string> {
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: String(timestampSeconds),
    [WEBHOOK_HEADERS.signature]: `${SIGNATURE_VERSION}=${webhookSignature(secret, id, timestampSeconds, body)}`,
  };
}

/** Fetch `Headers`, Node's `IncomingHttpHeaders`, or any record of header names (any case) to values. */
export type WebhookHeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyOptions {
  /** How far the timestamp may be from `now`, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The receiver's "now" (default: the system clock). */
  now?: Date;
}

/**
 * True when the request carries a valid signature of this body under this secret, with a timestamp
 * within the tolerance. `body` must be the raw body as received.
 */
export function verifyWebhookSignature(secret: string, headers: WebhookHeaderSource, body: string | Uint8Array, options: VerifyOptions = {}): boolean {
  const id = header(headers, WEBHOOK_HEADERS.id);
  const timestamp = header(headers, WEBHOOK_HEADERS.timestamp);
  const signatures = header(headers, WEBHOOK_HEADERS.signature);
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;

  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;

  const expected = Buffer.from(webhookSignature(secret, id, timestamp, body), 'hex');
  return signatures
    .split(' ')
    .filter((s) => s.startsWith(`${SIGNATURE_VERSION}=`))
    .map((s) => s.slice(SIGNATURE_VERSION.length + 1))
    .some((hex) => /^[0-9a-f]{64}$/i.test(hex) && timingSafeEqual(Buffer.from(hex, 'hex'), expected));
}

function header(headers: WebhookHeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return typeof value === 'string' ? value : value?.[0];
}
