import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressHazard, hostHazard } from '../domain/target.ts';

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (dns.lookup by default; tests inject names here). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver, as a connection would use it (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: HostResolver = async (hostname) => (await lookup(hostname, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Aborts the request (e.g. the service is stopping). */
  signal?: AbortSignal;
  /** Default: systemResolver. */
  resolve?: HostResolver;
}

/** Why a delivery got no HTTP answer; the message is what the deliveries list shows. */
export class NoAnswerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NoAnswerError';
  }
}

/** The target is internal (and private targets are not allowed): nothing was sent. */
export class TargetRefusedError extends NoAnswerError {
  constructor(message: string) {
    super(`refused: ${message}; webhooks reach only public addresses (EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS allows others)`);
    this.name = 'TargetRefusedError';
  }
}

/**
 * POSTs one body and answers the HTTP status. Redirects are not followed (a 3xx is an answer, and
 * not a 2xx). The response body is read and dropped. Throws NoAnswerError when no status arrives in
 * time, TargetRefusedError when the target is internal.
 *
 * No DNS rebinding: the name is resolved once, every address is checked, and the socket connects to
 * one of exactly those addresses (its lookup answers them; nothing resolves the name again), while the
 * Host header, TLS SNI and certificate check still use the name.
 */
export async function postWebhook(url: string, body: string, headers: Readonly<Record<string, string>>, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const fail = (err: unknown) => new NoAnswerError(describe(err, timeout, options.timeoutMs), { cause: err });

  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await checkedAddresses(target, options, signal);
  } catch (err) {
    throw err instanceof TargetRefusedError ? err : fail(err);
  }
  const send = target.protocol === 'https:' ? https.request : http.request;

  return new Promise<number>((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        // A fresh connection per delivery (no pooled socket to an address checked earlier), no proxy.
        agent: false,
        signal,
        lookup: pinnedLookup(addresses),
      },
      (res) => {
        res.on('error', (err) => reject(fail(err)));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.on('error', (err) => reject(fail(err)));
    req.end(body);
  });
}

/** The addresses to connect to: the literal, or what the name resolves to — each checked unless private targets are allowed. */
async function checkedAddresses(target: URL, options: PostOptions, signal: AbortSignal): Promise<readonly ResolvedAddress[]> {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!options.allowPrivateTargets) {
    // The URL was checked at registration; the rules (or the row) may be older than this delivery.
    const hazard = hostHazard(target.hostname);
    if (hazard) throw new TargetRefusedError(`${host} is an internal address: ${hazard}`);
  }
  const family = isIP(host);
  if (family) return [{ address: host, family: family === 6 ? 6 : 4 }];

  const addresses = await abortable((options.resolve ?? systemResolver)(host), signal);
  if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  if (!options.allowPrivateTargets) {
    // Every address, not just the first: the connection may fall back to any of them.
    for (const { address } of addresses) {
      const hazard = addressHazard(address);
      if (hazard) throw new TargetRefusedError(`${host} resolves to internal address ${address}: ${hazard}`);
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

/** Resolution cannot be cancelled, but the delivery need not wait for it. */
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
