import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { earliestFollowUpMs, followUpsCalledFor, type FollowUpPolicy } from './follow-up-policy.ts';

const H = 3_600_000;

describe('the earliest follow-up after a submission', () => {
  it('is the shortest of the three deadlines', () => {
    expect(earliestFollowUpMs({ scheduleWithinMs: 5 * H, heldWithinMs: 2 * H, decideWithinMs: 10 * H, escalateAfterMs: 1 * H })).toBe(2 * H);
    expect(earliestFollowUpMs({ scheduleWithinMs: 5 * H, heldWithinMs: 7 * H, decideWithinMs: 3 * H, escalateAfterMs: 1 * H })).toBe(3 * H);
  });

  it('when a case’s facts are anything an interview booked after the submission allows, then no follow-up it calls for is due sooner', () => {
    const duration = fc.integer({ min: 1, max: 60 * 24 * H });
    const policy = fc.record<FollowUpPolicy>({ scheduleWithinMs: duration, heldWithinMs: duration, decideWithinMs: duration, escalateAfterMs: duration });
    const submittedAt = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') });
    const interview = fc.option(fc.record({ afterMs: fc.integer({ min: 0, max: 90 * 24 * H }), held: fc.boolean() }), { nil: null });
    fc.assert(
      fc.property(policy, submittedAt, interview, (p, submitted, booked) => {
        const facts = { submittedAt: new Date(submitted), interview: booked && { end: new Date(submitted + booked.afterMs), held: booked.held }, decided: false };
        for (const f of followUpsCalledFor(p, facts)) expect(f.dueAt.getTime()).toBeGreaterThanOrEqual(submitted + earliestFollowUpMs(p));
      }),
    );
  });
});
