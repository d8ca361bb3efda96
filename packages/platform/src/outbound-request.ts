import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { addressHazard, hostHazard } from './outbound-target.ts';

/**
 * One HTTP request EMS was told to send somewhere (a webhook delivery, an access connector's call),
 * with the server-side request forgery guard of outbound-target.ts applied at connection time.
 *
 * No DNS rebinding: the name is resolved once, every address is checked (unless private targets are
 * allowed), and the socket connects to one of exactly those addresses (its lookup answers them;
 * nothing resolves the name again), while the Host header, TLS SNI and certificate check still use
 * the name. Each request opens a fresh connection, through no proxy; redirects are not followed.
 */

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (dns.lookup by default; tests inject names here). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver, as a connection would use it (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: HostResolver = async (hostname) => (await lookup(hostname, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface OutboundRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Readonly<Record<string, string>>;
  body?: string;
  /** The whole exchange (resolution, connection, answer and its body) must end within this. */
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Aborts the request (e.g. the service is stopping). */
  signal?: AbortSignal;
  /** Default: systemResolver. */
  resolve?: HostResolver;
  /** Extra trusted certificate authorities (PEM) for https, besides the system's. */
  ca?: string;
  /** The answer's body is cut after this many bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Appended to a refusal's message: where the policy can be changed. */
  refusalHint?: string;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as UTF-8, at most maxBodyBytes. */
  body: string;
}

/** Why a request got no HTTP answer (connection refused, reset, TLS, time-out, abort). */
export class NoAnswerError extends Error {
  /** True when the time-out ended it (not an abort by the caller). */
  readonly timedOut: boolean;
  readonly aborted: boolean;
  constructor(message: string, options?: { cause?: unknown; timedOut?: boolean; aborted?: boolean }) {
    super(message, options);
    this.name = 'NoAnswerError';
    this.timedOut = options?.timedOut ?? false;
    this.aborted = options?.aborted ?? false;
  }
}

/** The target is internal (and private targets are not allowed): nothing was sent. */
export class TargetRefusedError extends NoAnswerError {
  constructor(message: string, hint = '') {
    super(`refused: ${message}${hint}`);
    this.name = 'TargetRefusedError';
  }
}

const DEFAULT_MAX_BODY = 1024 * 1024;

/** Sends one request and answers its status, headers and body. Throws NoAnswerError / TargetRefusedError. */
export async function outboundRequest(url: string, options: OutboundRequestOptions): Promise<OutboundResponse> {
  const target = new URL(url);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const fail = (err: unknown) =>
    new NoAnswerError(describe(err, timeout, options.timeoutMs), { cause: err, timedOut: timeout.aborted, aborted: !timeout.aborted && signal.aborted });

  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await checkedAddresses(target, options, signal);
  } catch (err) {
    throw err instanceof TargetRefusedError ? err : fail(err);
  }
  const send = target.protocol === 'https:' ? https.request : http.request;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));

  return new Promise<OutboundResponse>((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'POST',
        headers,
        // A fresh connection per request (no pooled socket to an address checked earlier), no proxy.
        agent: false,
        signal,
        lookup: pinnedLookup(addresses),
        // A CA file adds to the system's trust store; it does not replace it.
        ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= maxBody) return;
          chunks.push(chunk.subarray(0, maxBody - size));
          size += chunk.length;
        });
        res.on('error', (err) => reject(fail(err)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (err) => reject(fail(err)));
    req.end(options.body);
  });
}

/** The addresses to connect to: the literal, or what the name resolves to — each checked unless private targets are allowed. */
async function checkedAddresses(target: URL, options: OutboundRequestOptions, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!options.allowPrivateTargets) {
    // The URL may have been checked when it was configured; the rules may be newer than that check.
    const hazard = hostHazard(target.hostname);
    if (hazard) throw new TargetRefusedError(`${host} is an internal address: ${hazard}`, options.refusalHint);
  }
  const family = isIP(host);
  if (family) return [{ address: host, family: family === 6 ? 6 : 4 }];

  const addresses = await abortable((options.resolve ?? systemResolver)(host), signal);
  if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  if (!options.allowPrivateTargets) {
    // Every address, not just the first: the connection may fall back to any of them.
    for (const { address } of addresses) {
      const hazard = addressHazard(address);
      if (hazard) throw new TargetRefusedError(`${host} resolves to internal address ${address}: ${hazard}`, options.refusalHint);
    }
  }
  return addresses;
}

/** A socket lookup that answers the addresses already resolved and checked, and never resolves again. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    if (options.all) return callback(null, usable.map((a) => ({ ...a })));
    const first = usable[0];
    if (!first) return callback(Object.assign(new Error(`no IPv${wanted} address`), { code: 'ENOTFOUND' }), '', undefined);
    return callback(null, first.address, first.family);
  };
}

/** Resolution cannot be cancelled, but the request need not wait for it. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const reason = () => (signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(err: unknown, timeout: AbortSignal, timeoutMs: number): string {
  if (timeout.aborted) return `no answer within ${timeoutMs} ms`;
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'AbortError') return 'aborted: the service is stopping';
  return [e.code, e.message].filter(Boolean).join(': ') || String(err);
}
