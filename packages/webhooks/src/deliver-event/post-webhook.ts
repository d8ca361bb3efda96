import { lookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isInternalAddress } from '../domain/target.ts';

export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Aborts the request (e.g. the service is stopping). */
  signal?: AbortSignal;
}

/** Why a delivery got no HTTP answer; the message is what the deliveries list shows. */
export class NoAnswerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NoAnswerError';
  }
}

/**
 * Resolves like dns.lookup, but refuses host names that resolve to an internal address. It runs as
 * the socket's own lookup, so the address checked is the address connected to (no second resolution
 * a DNS-rebinding host could answer differently).
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', undefined);
    const internal = addresses.find((a) => isInternalAddress(a.address));
    if (internal) {
      return callback(Object.assign(new Error(`${hostname} resolves to internal address ${internal.address}`), { code: 'EWEBHOOKTARGET' }), '', undefined);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', undefined);
    return callback(null, first.address, first.family);
  });
};

/**
 * POSTs one body and answers the HTTP status. Redirects are not followed (a 3xx is an answer, and
 * not a 2xx). The response body is read and dropped. Throws NoAnswerError when no status arrives in time.
 */
export function postWebhook(url: string, body: string, headers: Readonly<Record<string, string>>, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateTargets && isIP(host) && isInternalAddress(host)) {
    return Promise.reject(new NoAnswerError(`refused: ${host} is an internal address`));
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const send = target.protocol === 'https:' ? https.request : http.request;

  return new Promise<number>((resolve, reject) => {
    const fail = (err: unknown) => reject(new NoAnswerError(describe(err, timeout, options.timeoutMs), { cause: err }));
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        // A fresh connection per delivery: every connection goes through the guarded lookup.
        agent: false,
        signal,
        ...(options.allowPrivateTargets ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        res.on('error', fail);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

function describe(err: unknown, timeout: AbortSignal, timeoutMs: number): string {
  if (timeout.aborted) return `no answer within ${timeoutMs} ms`;
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'AbortError') return 'aborted: the service is stopping';
  if (e.code === 'EWEBHOOKTARGET') return `refused: ${e.message ?? 'internal address'}`;
  return [e.code, e.message].filter(Boolean).join(': ') || String(err);
}
