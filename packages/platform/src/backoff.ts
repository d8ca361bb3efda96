/**
 * How long to wait before the next attempt of something that failed: the one backoff formula of the
 * project, so every retry loop grows, caps and spreads its delays the same way.
 */
export interface BackoffPolicy {
  /** Delay after the first failure. */
  baseMs: number;
  /** No delay grows beyond this (before jitter). */
  maxMs: number;
  /**
   * Relative spread, e.g. 0.2 = ±20 %, so work that failed together (an outage) does not retry in
   * lock-step. Default 0: the exact doubling.
   */
  jitter?: number;
}

/**
 * Exponential backoff: base · 2^(failures − 1), capped at maxMs, then spread by ±jitter.
 * `failures` counts the failed attempts so far (1 after the first); below 1 counts as 1.
 * `random` returns [0, 1) and is a parameter so tests can pin it. Pure.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Number.isFinite(failures) ? Math.max(1, Math.floor(failures)) : 1;
  // 2^(n-1) overflows to Infinity long after the cap is reached; Math.min handles it.
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1));
  const jitter = policy.jitter ?? 0;
  const spread = jitter === 0 ? 1 : 1 + jitter * (2 * random() - 1);
  return Math.max(0, Math.round(raw * spread));
}
