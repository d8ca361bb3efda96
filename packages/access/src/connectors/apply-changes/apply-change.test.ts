import { describe, expect, it } from 'vitest';
import { backoffDelay } from '@ems/platform';
import { storableMessage, type RetryPolicy } from './apply-change.ts';

describe('a system’s message, as the audit and the events carry it', () => {
  it('when it has control characters, is empty, or is cut through an emoji, then it is cleaned, never empty, and well-formed', () => {
    expect(storableMessage('bind refused\u0000\u0007 (49)')).toBe('bind refused   (49)');
    expect(storableMessage('  ')).toBe('unknown error');
    const cut = storableMessage(`${'x'.repeat(1999)}👋`);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(2000);
  });
});

describe('the backoff between attempts (platform\'s backoffDelay, as recordFailure calls it: no jitter)', () => {
  it('when attempts fail, then the delay doubles from the base and stops at the cap', () => {
    const policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'> = { baseMs: 1_000, maxMs: 300_000 };
    const delay = (attempts: number) => backoffDelay(attempts, { baseMs: policy.baseMs, maxMs: policy.maxMs });
    expect([1, 2, 3, 4].map(delay)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(delay(20)).toBe(300_000);
    expect(delay(1_000)).toBe(300_000);
  });
});
