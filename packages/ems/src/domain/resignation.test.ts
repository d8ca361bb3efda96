import { describe, expect, it } from 'vitest';
import { addDays, defaultLastWorkingDay, lastWorkingDayProblem, localDate, statusAfterReactions, stepCanBecome } from './resignation.ts';

describe('resignation rules', () => {
  it('when it is late evening in New York, then it is already tomorrow in Singapore', () => {
    const at = new Date('2026-11-25T23:30:00-05:00');
    expect(localDate(at, 'America/New_York')).toBe('2026-11-25');
    expect(localDate(at, 'Asia/Singapore')).toBe('2026-11-26');
  });
  it('when no last working day is given, then the notice period runs from the employee local today', () => {
    expect(defaultLastWorkingDay(new Date('2026-02-20T12:00:00Z'), 'Europe/Berlin', 14)).toBe('2026-03-06');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
  it('when the last working day is in the past or over a year ahead, then it is refused with a reason', () => {
    const now = new Date('2026-11-25T10:00:00Z');
    expect(lastWorkingDayProblem('2026-11-24', now, 'Europe/Berlin')).toMatch(/in the past/);
    expect(lastWorkingDayProblem('2026-11-25', now, 'Europe/Berlin')).toBeNull();
    expect(lastWorkingDayProblem('2028-01-01', now, 'Europe/Berlin')).toMatch(/more than a year/);
  });
  it('when any reaction failed, then the case needs action; when all are done, it awaits the decision', () => {
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'done', blockAccess: 'done' })).toBe('awaiting_decision');
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'failed', blockAccess: 'done' })).toBe('action_required');
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'pending', blockAccess: 'done' })).toBe('in_progress');
  });
  it('when a step is late or another is still pending, then the case is still in progress even if one failed', () => {
    expect(statusAfterReactions({ notifyManager: 'late', scheduleInterview: 'done', blockAccess: 'done' })).toBe('in_progress');
    expect(statusAfterReactions({ notifyManager: 'failed', scheduleInterview: 'pending', blockAccess: 'done' })).toBe('in_progress');
  });
  it('when outcomes arrive, then the first success wins and a failed step can still succeed after a replay', () => {
    expect(stepCanBecome('pending', 'done')).toBe(true);
    expect(stepCanBecome('late', 'failed')).toBe(true);
    expect(stepCanBecome('done', 'failed')).toBe(false);
    expect(stepCanBecome('done', 'done')).toBe(false);
    expect(stepCanBecome('failed', 'done')).toBe(true);
    expect(stepCanBecome('failed', 'failed')).toBe(false);
  });
});
