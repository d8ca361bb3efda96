import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './tracked-step.ts';

describe('retryDelayMs', () => {
  it('doubles from the first interval and never waits longer than the cap', () => {
    const retry = { maxAttempts: 30, retryIntervalMs: 500, maxIntervalMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) => retryDelayMs(retry, n))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });
});
