import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FOLLOW_UP_POLICY,
  followUpKey,
  followUpsCalledFor,
  followUpsDue,
  nextFollowUp,
  type FollowUp,
  type FollowUpFacts,
  type FollowUpPolicy,
} from './follow-ups.ts';

const H = 3_600_000;
const policy: FollowUpPolicy = { scheduleWithinMs: 1 * H, heldWithinMs: 2 * H, decideWithinMs: 10 * H, escalateAfterMs: 3 * H };
const submittedAt = new Date('2026-03-02T10:00:00Z');
const at = (hours: number) => new Date(submittedAt.getTime() + hours * H);

const open: FollowUpFacts = { submittedAt, interview: null, decided: false };
const booked = (endHours: number, held = false): FollowUpFacts => ({ submittedAt, interview: { end: at(endHours), held }, decided: false });
const sent = (...keys: string[]) => new Set(keys);
const brief = (fs: FollowUp[]) => fs.map((f) => `${followUpKey(f)}@${(f.dueAt.getTime() - submittedAt.getTime()) / H}h`);

describe('the follow-up policy', () => {
  it('when nothing is booked yet, then the interview must be scheduled and the case decided: a reminder at each deadline and an escalation after it, in due order', () => {
    expect(brief(followUpsCalledFor(policy, open))).toEqual([
      'interview_scheduled.reminder@1h',
      'interview_scheduled.escalation@4h',
      'decision.reminder@10h',
      'decision.escalation@13h',
    ]);
  });

  it('when the interview is booked, then it is to be held within its deadline after it ends; once held, only the decision is awaited', () => {
    expect(brief(followUpsCalledFor(policy, booked(20)))).toEqual([
      'decision.reminder@10h',
      'decision.escalation@13h',
      'interview_held.reminder@22h',
      'interview_held.escalation@25h',
    ]);
    expect(brief(followUpsCalledFor(policy, booked(20, true)))).toEqual(['decision.reminder@10h', 'decision.escalation@13h']);
  });

  it('when the case is decided, then nothing is called for, whatever else is true', () => {
    for (const facts of [open, booked(5), booked(5, true)]) {
      expect(followUpsCalledFor(policy, { ...facts, decided: true })).toEqual([]);
      expect(nextFollowUp(policy, { ...facts, decided: true }, sent())).toBeNull();
      expect(followUpsDue(policy, { ...facts, decided: true }, sent(), at(1000))).toEqual([]);
    }
  });

  it('names each follow-up by milestone and level, the key it is sent under once', () => {
    expect(followUpKey({ milestone: 'interview_held', level: 'reminder' })).toBe('interview_held.reminder');
    expect(followUpKey({ milestone: 'decision', level: 'escalation' })).toBe('decision.escalation');
  });
});

describe('the next follow-up', () => {
  it('when nothing was sent, then it is the first reminder; once sent, the escalation of the same milestone', () => {
    expect(brief([nextFollowUp(policy, open, sent())!])).toEqual(['interview_scheduled.reminder@1h']);
    expect(brief([nextFollowUp(policy, open, sent('interview_scheduled.reminder'))!])).toEqual(['interview_scheduled.escalation@4h']);
  });

  it('when a reminder was never sent, then its escalation waits for it, even if the escalation is due before the next reminder', () => {
    // The decision reminder was (somehow) sent first; the scheduling reminder is still owed and comes next.
    expect(brief([nextFollowUp(policy, open, sent('decision.reminder'))!])).toEqual(['interview_scheduled.reminder@1h']);
    // The held escalation is recorded but its reminder is not: the reminder is still owed.
    expect(nextFollowUp(policy, booked(20), sent('decision.reminder', 'decision.escalation', 'interview_held.escalation'))).toMatchObject({ milestone: 'interview_held', level: 'reminder' });
  });

  it('when the interview is booked after its reminder went out, then its escalation is no longer called for', () => {
    expect(brief([nextFollowUp(policy, booked(3), sent('interview_scheduled.reminder'))!])).toEqual(['interview_held.reminder@5h']);
  });

  it('when everything called for was sent, then there is none', () => {
    expect(nextFollowUp(policy, booked(1, true), sent('decision.reminder', 'decision.escalation'))).toBeNull();
  });
});

describe('follow-ups due at an instant', () => {
  it('when the clock reaches a deadline exactly, then its reminder is due; a millisecond before, nothing is', () => {
    expect(followUpsDue(policy, open, sent(), new Date(at(1).getTime() - 1))).toEqual([]);
    expect(brief(followUpsDue(policy, open, sent(), at(1)))).toEqual(['interview_scheduled.reminder@1h']);
  });

  it('when the reminder was sent, then the escalation is due only escalateAfterMs later', () => {
    const s = sent('interview_scheduled.reminder');
    expect(followUpsDue(policy, open, s, at(3.99))).toEqual([]);
    expect(brief(followUpsDue(policy, open, s, at(4)))).toEqual(['interview_scheduled.escalation@4h']);
  });

  it('when the timer was down past several deadlines, then everything owed is due at once, oldest first, each once', () => {
    expect(brief(followUpsDue(policy, open, sent(), at(11)))).toEqual(['interview_scheduled.reminder@1h', 'interview_scheduled.escalation@4h', 'decision.reminder@10h']);
    expect(brief(followUpsDue(policy, open, sent('interview_scheduled.reminder', 'interview_scheduled.escalation'), at(11)))).toEqual(['decision.reminder@10h']);
  });

  it('never returns a follow-up already sent', () => {
    const s = sent('interview_scheduled.reminder', 'decision.reminder');
    const due = followUpsDue(policy, open, s, at(100));
    expect(due.map(followUpKey)).toEqual(['interview_scheduled.escalation', 'decision.escalation']);
    expect(due.some((f) => s.has(followUpKey(f)))).toBe(false);
  });

  it('does not change the set of sent keys it is given', () => {
    const s = sent();
    followUpsDue(policy, open, s, at(100));
    expect(s.size).toBe(0);
  });
});

describe('the default policy', () => {
  it('gives a day to schedule and to hold the interview, a week to decide, two more days before escalating', () => {
    const day = 24 * H;
    expect(DEFAULT_FOLLOW_UP_POLICY).toEqual({ scheduleWithinMs: day, heldWithinMs: day, decideWithinMs: 7 * day, escalateAfterMs: 2 * day });
  });
});
