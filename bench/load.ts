import type { ems } from '@ems/contracts';

/** The load generator: submissions through the public API, and waiting until every case has settled. */

/** Where the load goes and with which credential (the API token of an HR system; bench/auth.ts). */
export interface Api {
  url: string;
  headers: Record<string, string>;
}

export interface Submission {
  employeeId: string;
  /** Wall clock (ms since the epoch) just before the POST was sent: the same host clock EMS stamps steps with. */
  sentAt: number;
  answeredMs: number;
  /** HTTP status; 0 when the request itself failed. */
  status: number;
  id: string | undefined;
  error: string | undefined;
}

async function submit(api: Api, employeeId: string): Promise<Submission> {
  const sentAt = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(`${api.url}/api/resignations`, { method: 'POST', headers: { 'content-type': 'application/json', ...api.headers }, body: JSON.stringify({ employeeId }) });
    const text = await res.text();
    const ok = res.status === 201 || res.status === 202;
    const id = ok ? (JSON.parse(text) as { id: string }).id : undefined;
    return { employeeId, sentAt, answeredMs: performance.now() - t0, status: res.status, id, error: ok ? undefined : text.slice(0, 300) };
  } catch (err) {
    return { employeeId, sentAt, answeredMs: performance.now() - t0, status: 0, id: undefined, error: describeFailure(err) };
  }
}

/** All at once, `concurrency` requests in flight. */
export async function burst(api: Api, employees: readonly string[], concurrency: number, onAnswer: (s: Submission) => void, signal?: AbortSignal): Promise<Submission[]> {
  const out: Submission[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, employees.length) }, async () => {
      while (next < employees.length) {
        signal?.throwIfAborted();
        const s = await submit(api, employees[next++]!);
        out.push(s);
        onAnswer(s);
      }
    }),
  );
  return out;
}

export interface SteadyResult {
  submissions: Submission[];
  /** Submissions sent more than 20 ms after their slot (the client could not keep the rate). */
  lateSends: number;
  achievedRate: number;
}

/**
 * Open loop at `rate` per second: each submission goes out at its slot whether or not earlier ones
 * have been answered (a closed loop would slow down with EMS and hide its latency).
 */
export async function steady(api: Api, employees: readonly string[], rate: number, onAnswer: (s: Submission) => void, signal?: AbortSignal, maxInFlight = 20_000): Promise<SteadyResult> {
  const pending = new Set<Promise<void>>();
  const out: Submission[] = [];
  let lateSends = 0;
  const start = performance.now() + 20;
  let first = 0;
  let last = 0;
  for (let i = 0; i < employees.length; i++) {
    signal?.throwIfAborted();
    const slot = start + (i * 1000) / rate;
    const wait = slot - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (pending.size >= maxInFlight) await Promise.race(pending);
    const now = performance.now();
    if (now - slot > 20) lateSends++;
    if (i === 0) first = now;
    last = now;
    const p: Promise<void> = submit(api, employees[i]!).then((s) => {
      out.push(s);
      onAnswer(s);
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
  const achievedRate = employees.length > 1 ? ((employees.length - 1) * 1000) / (last - first) : rate;
  return { submissions: out, lateSends, achievedRate };
}

async function getJson<T>(api: Api, path: string): Promise<T> {
  const res = await fetch(`${api.url}${path}`, { headers: api.headers });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

type Page = { items: ems.Resignation[]; nextOffset: number | null };

async function listAll(api: Api): Promise<ems.Resignation[]> {
  const out: ems.Resignation[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page: Page = await getJson<Page>(api, `/api/resignations?limit=500&offset=${offset}`);
    out.push(...page.items);
    offset = page.nextOffset;
  }
  return out;
}

const REACTIONS = ['notifyManager', 'scheduleInterview', 'suspendAccess'] as const;
export const settled = (c: ems.Resignation) => REACTIONS.every((s) => c.steps[s]?.status === 'done' || c.steps[s]?.status === 'failed');

export interface Settlement {
  cases: Map<string, ems.Resignation>;
  /** Case ids that had not settled when the wait gave up. */
  unsettled: string[];
}

/**
 * Polls the public API until every case has its three first reactions settled (done or failed).
 * Latencies come from the server's step timestamps, so the poll interval does not bias them; it
 * only costs EMS a list query per poll.
 */
export async function waitSettled(
  api: Api,
  ids: readonly string[],
  options: { timeoutMs: number; pollMs: number; onProgress?: (inProgress: string) => void; signal?: AbortSignal | undefined },
): Promise<Settlement> {
  const deadline = Date.now() + options.timeoutMs;
  const wanted = new Set(ids);
  for (;;) {
    options.signal?.throwIfAborted();
    const late = Date.now() > deadline;
    try {
      // One page only: the poll must not become load itself.
      const page = await getJson<Page>(api, `/api/resignations?status=in_progress&limit=200`);
      const inProgress = page.items.filter((c) => wanted.has(c.id)).length;
      options.onProgress?.(`${inProgress}${page.nextOffset !== null ? '+' : ''}`);
      if (inProgress === 0 || late) {
        const all = await listAll(api);
        const cases = new Map(all.filter((c) => wanted.has(c.id)).map((c) => [c.id, c]));
        const unsettled = ids.filter((id) => !cases.has(id) || !settled(cases.get(id)!));
        if (unsettled.length === 0 || late) return { cases, unsettled };
      }
    } catch (err) {
      // An overloaded EMS may fail a poll (the client times out); keep asking until the deadline.
      if (late) throw err;
      options.onProgress?.(`? (poll failed: ${err instanceof Error ? err.message : String(err)})`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}

/** fetch's own message ("fetch failed") with its cause's code and message (a connect timeout, a reset…). */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = [cause?.code, cause?.message].filter((x) => typeof x === 'string' && x).join(': ');
  return detail ? `${err.message} (${detail})` : err.message;
}
