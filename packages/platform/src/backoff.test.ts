import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';

const policy: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 };
const middle = () => 0.5; // no spread

describe('backoffDelay', () => {
  it('when attempts fail one after another, then the delay doubles from the base', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, middle))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('when the doubling passes the cap, then the delay stays at the cap (also for huge attempt counts)', () => {
    expect(backoffDelay(7, policy, middle)).toBe(60_000);
    expect(backoffDelay(10_000, policy, middle)).toBe(60_000);
  });

  it('when jitter is drawn at its extremes, then the delay moves by at most ±jitter', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(3_200);
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(4_800);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(2, policy);
      expect(d).toBeGreaterThanOrEqual(1_600);
      expect(d).toBeLessThanOrEqual(2_400);
    }
  });

  it('when the failure count is zero, negative or not a number, then it is treated as the first failure', () => {
    expect(backoffDelay(0, policy, middle)).toBe(1_000);
    expect(backoffDelay(-3, policy, middle)).toBe(1_000);
    expect(backoffDelay(Number.NaN, policy, middle)).toBe(1_000);
  });

  it('when the policy has no jitter, then the delay is the exact doubling and random is never drawn', () => {
    const never = () => {
      throw new Error('drew a random number');
    };
    expect([1, 2, 3].map((n) => backoffDelay(n, { baseMs: 500, maxMs: 1_500 }, never))).toEqual([500, 1_000, 1_500]);
  });

  it('when the base is zero, then every delay is zero', () => {
    expect(backoffDelay(5, { baseMs: 0, maxMs: 0, jitter: 0.2 })).toBe(0);
  });
});
