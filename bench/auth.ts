/**
 * The benchmark runs with authentication on, as a deployment does: the load generator is an HR system
 * with an API token acting as the HR lead (created by an operator who signed in through the built-in
 * provider); the participants-alone ceiling calls as the orchestrator, with its client-credentials tokens.
 *
 * It also measures what the checks cost per request: the same trivial request (`GET /api/me`) admitted by
 * each credential — an access token (JWT), an API token, a browser session — against a public request that
 * admits no one (`GET /healthz`), each at the same concurrency, with the EMS process's CPU per request.
 */
import { cpuTimes } from './proc.ts';
import { serviceToken, signIn } from '@ems/identity/testing';
import type { Secrets } from '@ems/identity';
import type { ServiceIdentity } from '@ems/contracts/policy';

/** The organisation's operator and HR lead (bench/org.ts). */
export const BENCH_OPERATOR = 'B-CEO';
export const BENCH_HR_LEAD = 'hr-lead';

export interface LoadCredentials {
  /** `{ authorization }` of the load generator (an API token acting as the HR lead). */
  load: Record<string, string>;
  /** The HR lead's access token (JWT), for the cost measurement. */
  jwt: string;
  apiToken: string;
}

export async function loadCredentials(base: string): Promise<LoadCredentials> {
  const operator = (await signIn(base, BENCH_OPERATOR)).accessToken;
  const res = await fetch(`${base}/api/api-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'benchmark load', personId: BENCH_HR_LEAD, expiresInDays: 1 }),
  });
  const body = (await res.json()) as { token?: string; detail?: string };
  if (res.status !== 201 || !body.token) throw new Error(`could not create the load generator's API token: ${res.status} ${body.detail ?? ''}`);
  const jwt = (await signIn(base, BENCH_HR_LEAD)).accessToken;
  return { load: { authorization: `Bearer ${body.token}` }, jwt, apiToken: body.token };
}

/** The orchestrator's `{ authorization }` for a participant (client credentials at the built-in provider). */
export function orchestratorCredentials(base: string, secrets: Secrets): (target: ServiceIdentity) => Promise<Record<string, string>> {
  const cache = new Map<ServiceIdentity, { at: number; token: Promise<string> }>();
  return async (target) => {
    let hit = cache.get(target);
    // Tokens live ten minutes: a fresh one every five.
    if (!hit || Date.now() - hit.at > 5 * 60_000) cache.set(target, (hit = { at: Date.now(), token: serviceToken(base, secrets, 'ems', target) }));
    return { authorization: `Bearer ${await hit.token}` };
  };
}

export interface CheckCost {
  /** What was measured, e.g. "access token (JWT)". */
  label: string;
  requests: number;
  requestsPerSecond: number;
  /** EMS process CPU per request, µs. */
  emsCpuUsPerRequest: number;
  /** Minus the same for the public request (no checks): what admitting the caller costs. */
  checkCpuUsPerRequest: number | null;
  errors: number;
}

async function hammer(base: string, path: string, headers: Record<string, string>, requests: number, concurrency: number, pid: number): Promise<Omit<CheckCost, 'label' | 'checkCpuUsPerRequest'>> {
  let next = 0;
  let errors = 0;
  const cpu0 = cpuTimes(pid)?.self ?? 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const res = await fetch(`${base}${path}`, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpuTimes(pid)?.self ?? 0) - cpu0;
  return { requests, requestsPerSecond: requests / seconds, emsCpuUsPerRequest: (cpuSeconds * 1e6) / requests, errors };
}

/**
 * Each credential in turn (warmed up first: caches and JIT), twice in alternation so a noisy neighbour
 * does not favour one; the lower CPU figure of the two rounds is kept.
 */
export async function measureCheckCost(base: string, pid: number, creds: LoadCredentials, sessionCookie: string | undefined, requests: number, concurrency: number): Promise<CheckCost[]> {
  const variants: Array<{ label: string; path: string; headers: Record<string, string> }> = [
    { label: 'public, no check (GET /healthz)', path: '/healthz', headers: {} },
    { label: 'access token, JWT (GET /api/me)', path: '/api/me', headers: { authorization: `Bearer ${creds.jwt}` } },
    { label: 'API token (GET /api/me)', path: '/api/me', headers: { authorization: `Bearer ${creds.apiToken}` } },
    ...(sessionCookie ? [{ label: 'browser session (GET /api/me)', path: '/api/me', headers: { cookie: sessionCookie } }] : []),
  ];
  for (const v of variants) await hammer(base, v.path, v.headers, Math.min(200, requests), concurrency, pid);
  const best = new Map<string, Omit<CheckCost, 'label' | 'checkCpuUsPerRequest'>>();
  for (let round = 0; round < 2; round++) {
    for (const v of variants) {
      const r = await hammer(base, v.path, v.headers, requests, concurrency, pid);
      const prev = best.get(v.label);
      if (!prev || r.emsCpuUsPerRequest < prev.emsCpuUsPerRequest) best.set(v.label, { ...r, errors: r.errors + (prev?.errors ?? 0) });
    }
  }
  const baseline = best.get(variants[0]!.label)!.emsCpuUsPerRequest;
  return variants.map((v, i) => ({ label: v.label, ...best.get(v.label)!, checkCpuUsPerRequest: i === 0 ? null : best.get(v.label)!.emsCpuUsPerRequest - baseline }));
}
