/** How long to wait before the next delivery attempt. */
export interface BackoffPolicy {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** No delay grows beyond this. */
  maxMs: number;
  /** Relative spread, e.g. 0.2 = ±20 %, so emails queued together during an outage do not retry in lock-step. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 30_000, maxMs: 60 * 60_000, jitter: 0.2 };

/**
 * Exponential backoff with jitter: base · 2^(failedAttempts − 1), capped, then spread by ±jitter.
 * `random` returns [0, 1) and is a parameter so tests can pin it.
 */
export function backoffDelay(failedAttempts: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(failedAttempts));
  // 2^(n-1) overflows to Infinity long after the cap is reached; Math.min handles it.
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1));
  const spread = 1 + policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(raw * spread));
}
