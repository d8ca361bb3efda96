import { describe, expect, it } from 'vitest';
import { preferredWaitSeconds, preferWait } from './prefer.ts';

describe('preferredWaitSeconds', () => {
  it.each([
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['wait="7"', 7],
    ['WAIT = 3', 3],
    ['wait=2;foo=bar', 2],
    ['wait=4, wait=9', 4],
  ])('reads %j as %d seconds', (header, seconds) => {
    expect(preferredWaitSeconds(header)).toBe(seconds);
  });

  it.each([[undefined], [''], ['return=minimal'], ['wait=-1'], ['wait=1.5'], ['wait=abc'], ['wait'], ['nowait=3']])('finds no wait preference in %j', (header) => {
    expect(preferredWaitSeconds(header)).toBeUndefined();
  });

  it('reads a header given more than once', () => {
    expect(preferredWaitSeconds(['return=minimal', 'wait=8'])).toBe(8);
  });

  it('writes what it reads', () => {
    expect(preferredWaitSeconds(preferWait(12.7))).toBe(12);
  });
});
