import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDays, closedWhen, decideTransition, defaultLastWorkingDay, describeWorkingDays, endOfDay, lastWorkingDayProblem, localDate, notWorkingDayProblem, statusAfterReactions, stepCanBecome, type CaseStatus, type DecisionKind } from './resignation.ts';

const MON_FRI = [1, 2, 3, 4, 5];

describe('resignation rules', () => {
  it('when it is late evening in New York, then it is already tomorrow in Singapore', () => {
    const at = new Date('2026-11-25T23:30:00-05:00');
    expect(localDate(at, 'America/New_York')).toBe('2026-11-25');
    expect(localDate(at, 'Asia/Singapore')).toBe('2026-11-26');
  });
  it('when no last working day is given, then the notice period runs from the employee local today', () => {
    expect(defaultLastWorkingDay(new Date('2026-02-20T12:00:00Z'), 'Europe/Berlin', 14, MON_FRI)).toBe('2026-03-06');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
  it('when the notice period ends on a day off, then the default last working day is the working day before it', () => {
    // Friday 2026-11-20 + 15 days = Saturday 2026-12-05 → Friday 2026-12-04; + 16 = Sunday → the same Friday.
    expect(defaultLastWorkingDay(new Date('2026-11-20T12:00:00Z'), 'Europe/Berlin', 15, MON_FRI)).toBe('2026-12-04');
    expect(defaultLastWorkingDay(new Date('2026-11-20T12:00:00Z'), 'Europe/Berlin', 16, MON_FRI)).toBe('2026-12-04');
    // Someone who works Tuesday to Saturday: a Monday moves back to the Saturday before.
    expect(defaultLastWorkingDay(new Date('2026-11-20T12:00:00Z'), 'Europe/Berlin', 17, [2, 3, 4, 5, 6])).toBe('2026-12-05');
    // Late Friday evening in Los Angeles is already Saturday in UTC: the notice runs from the local Friday.
    expect(defaultLastWorkingDay(new Date('2026-11-21T05:00:00Z'), 'America/Los_Angeles', 14, MON_FRI)).toBe('2026-12-04');
    // A notice of 0 days given on a Sunday: no working day between today and the end, so the next one.
    expect(defaultLastWorkingDay(new Date('2026-11-22T12:00:00Z'), 'Europe/Berlin', 0, MON_FRI)).toBe('2026-11-23');
  });
  it('when the last working day is a day off of the employee, then it is refused naming the weekday and the days they work', () => {
    expect(notWorkingDayProblem('2026-12-05', { id: 'E1002', workingDays: MON_FRI })).toBe('2026-12-05 is a Saturday, not a working day for E1002 (works Mon–Fri)');
    expect(notWorkingDayProblem('2026-12-06', { id: 'E1002', workingDays: MON_FRI })).toMatch(/^2026-12-06 is a Sunday, not a working day/);
    expect(notWorkingDayProblem('2026-12-04', { id: 'E1002', workingDays: MON_FRI })).toBeNull();
    expect(notWorkingDayProblem('2026-12-04', { id: 'E7', workingDays: [1, 2, 3, 4] })).toBe('2026-12-04 is a Friday, not a working day for E7 (works Mon–Thu)');
    expect(notWorkingDayProblem('2026-12-05', { id: 'E7', workingDays: [6, 7] })).toBeNull();
  });
  it('property: the default last working day is always a working day of the employee, never before their today, and no later than the notice period ends unless none lies in between', () => {
    const zones = ['Europe/Berlin', 'America/Los_Angeles', 'Asia/Singapore', 'Pacific/Auckland', 'Pacific/Honolulu'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') }).map((t) => new Date(t)),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 90 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        (now, zone, noticeDays, workingDays) => {
          const day = defaultLastWorkingDay(now, zone, noticeDays, workingDays);
          const today = localDate(now, zone);
          expect(notWorkingDayProblem(day, { id: 'E1', workingDays })).toBeNull();
          expect(day >= today).toBe(true);
          // The latest working day up to the end of the notice: none lies after it and up to that end.
          for (let d = addDays(day, 1); d <= addDays(today, noticeDays); d = addDays(d, 1)) expect(notWorkingDayProblem(d, { id: 'E1', workingDays })).not.toBeNull();
          if (day > addDays(today, noticeDays)) {
            // Moved forward only when no working day lies between today and the end of the notice.
            for (let d = today; d <= addDays(today, noticeDays); d = addDays(d, 1)) expect(notWorkingDayProblem(d, { id: 'E1', workingDays })).not.toBeNull();
          }
        },
      ),
      { seed: 20261203, numRuns: 500 },
    );
  });
  it('when working days are described, then runs of days read as ranges', () => {
    expect(describeWorkingDays(MON_FRI)).toBe('Mon–Fri');
    expect(describeWorkingDays([1, 3, 5])).toBe('Mon, Wed, Fri');
    expect(describeWorkingDays([5, 1, 2, 3, 6])).toBe('Mon–Wed, Fri, Sat');
    expect(describeWorkingDays([])).toBe('no days');
  });
  it('when the last working day is in the past or over a year ahead, then it is refused with a reason', () => {
    const now = new Date('2026-11-25T10:00:00Z');
    expect(lastWorkingDayProblem('2026-11-24', now, 'Europe/Berlin')).toMatch(/in the past/);
    expect(lastWorkingDayProblem('2026-11-25', now, 'Europe/Berlin')).toBeNull();
    expect(lastWorkingDayProblem('2028-01-01', now, 'Europe/Berlin')).toMatch(/more than a year/);
  });
  it('when any reaction failed, then the case needs action; when all are done, it awaits the decision', () => {
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'done', suspendAccess: 'done' })).toBe('awaiting_decision');
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'failed', suspendAccess: 'done' })).toBe('action_required');
    expect(statusAfterReactions({ notifyManager: 'done', scheduleInterview: 'pending', suspendAccess: 'done' })).toBe('in_progress');
  });
  it('when a step is late or another is still pending, then the case is still in progress even if one failed', () => {
    expect(statusAfterReactions({ notifyManager: 'late', scheduleInterview: 'done', suspendAccess: 'done' })).toBe('in_progress');
    expect(statusAfterReactions({ notifyManager: 'failed', scheduleInterview: 'pending', suspendAccess: 'done' })).toBe('in_progress');
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

describe('decideTransition (the case state machine for decisions)', () => {
  const today = '2026-11-25';
  const undecided = (status: CaseStatus) => ({ status, lastWorkingDay: '2026-12-20', decision: null });
  const decided = (kind: DecisionKind, status: CaseStatus, lastWorkingDay: string | null = null, revision = 1) => ({ status, lastWorkingDay: '2026-12-20', decision: { kind, lastWorkingDay, revision } });

  it('refuses any decision while the first reactions run', () => {
    for (const kind of ['retained', 'withdrawn', 'exit_confirmed'] as const) {
      const t = decideTransition(undecided('in_progress'), { kind }, today);
      expect(t).toMatchObject({ outcome: 'illegal' });
    }
  });

  it('from awaiting_decision or action_required: retained, withdrawn, or exit confirmed on the submitted day by default', () => {
    for (const status of ['awaiting_decision', 'action_required'] as const) {
      expect(decideTransition(undecided(status), { kind: 'retained' }, today)).toEqual({ outcome: 'apply', status: 'retained', kind: 'retained', lastWorkingDay: null, revision: 1, moved: false });
      expect(decideTransition(undecided(status), { kind: 'withdrawn' }, today)).toMatchObject({ outcome: 'apply', status: 'withdrawn' });
      expect(decideTransition(undecided(status), { kind: 'exit_confirmed' }, today)).toEqual({ outcome: 'apply', status: 'exit_confirmed', kind: 'exit_confirmed', lastWorkingDay: '2026-12-20', revision: 1, moved: false });
    }
    expect(decideTransition(undecided('awaiting_decision'), { kind: 'exit_confirmed', lastWorkingDay: '2026-12-01' }, today)).toMatchObject({ lastWorkingDay: '2026-12-01' });
  });

  it('refuses an exit on a day already past in the employee zone', () => {
    expect(decideTransition(undecided('awaiting_decision'), { kind: 'exit_confirmed', lastWorkingDay: '2026-11-24' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition({ ...undecided('awaiting_decision'), lastWorkingDay: '2026-11-01' }, { kind: 'exit_confirmed' }, today)).toMatchObject({ outcome: 'illegal' });
    // today itself is still a working day
    expect(decideTransition(undecided('awaiting_decision'), { kind: 'exit_confirmed', lastWorkingDay: today }, today)).toMatchObject({ outcome: 'apply' });
  });

  it('repeating the decision that took effect changes nothing; a different one is illegal', () => {
    expect(decideTransition(decided('retained', 'retained'), { kind: 'retained' }, today)).toEqual({ outcome: 'unchanged' });
    expect(decideTransition(decided('withdrawn', 'withdrawn'), { kind: 'withdrawn' }, today)).toEqual({ outcome: 'unchanged' });
    expect(decideTransition(decided('retained', 'retained'), { kind: 'exit_confirmed' }, today)).toMatchObject({ outcome: 'illegal' });
    const t = decideTransition(decided('retained', 'retained'), { kind: 'withdrawn' }, today);
    expect(t.outcome === 'illegal' && t.detail).toMatch(/already retained; it cannot be withdrawn/);
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'withdrawn' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'retained' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'exit_confirmed' }, today)).toEqual({ outcome: 'unchanged' });
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'exit_confirmed', lastWorkingDay: '2026-12-20' }, today)).toEqual({ outcome: 'unchanged' });
  });

  it('a confirmation with another day moves it (next revision) until the employee has left', () => {
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20', 1), { kind: 'exit_confirmed', lastWorkingDay: '2026-12-10' }, today)).toEqual({
      outcome: 'apply',
      status: 'exit_confirmed',
      kind: 'exit_confirmed',
      lastWorkingDay: '2026-12-10',
      revision: 2,
      moved: true,
    });
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'exit_confirmed', lastWorkingDay: '2026-11-20' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(decided('exit_confirmed', 'exited', '2026-11-20'), { kind: 'exit_confirmed', lastWorkingDay: '2026-12-10' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(decided('exit_confirmed', 'exited', '2026-11-20'), { kind: 'exit_confirmed', lastWorkingDay: '2026-11-20' }, today)).toEqual({ outcome: 'unchanged' });
    // Once the revocation time has come, the day is fixed even before the revocation is done.
    const revoking = { status: 'exit_confirmed' as const, lastWorkingDay: '2026-12-20', decision: { kind: 'exit_confirmed' as const, lastWorkingDay: '2026-11-24', revision: 1, revokeAt: '2026-11-24T23:00:00.000Z' } };
    expect(decideTransition(revoking, { kind: 'exit_confirmed', lastWorkingDay: '2026-12-01' }, today, new Date('2026-11-25T08:00:00Z'))).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(decided('exit_confirmed', 'exit_confirmed', '2026-12-20'), { kind: 'exit_confirmed', lastWorkingDay: '2027-12-01' }, today)).toMatchObject({ outcome: 'illegal' });
    expect(decideTransition(undecided('awaiting_decision'), { kind: 'exit_confirmed', lastWorkingDay: '2027-12-01' }, today)).toMatchObject({ outcome: 'illegal' });
  });
});

describe('endOfDay', () => {
  it('is midnight that ends the day in the zone, across offsets and DST changes', () => {
    expect(endOfDay('2026-11-25', 'Europe/Berlin').toISOString()).toBe('2026-11-25T23:00:00.000Z');
    expect(endOfDay('2026-07-01', 'Europe/Berlin').toISOString()).toBe('2026-07-01T22:00:00.000Z');
    expect(endOfDay('2026-11-25', 'America/New_York').toISOString()).toBe('2026-11-26T05:00:00.000Z');
    expect(endOfDay('2026-11-25', 'Asia/Singapore').toISOString()).toBe('2026-11-25T16:00:00.000Z');
    expect(endOfDay('2026-11-25', 'UTC').toISOString()).toBe('2026-11-26T00:00:00.000Z');
    // The night the clocks go forward in Berlin (29 Mar 2026) and back (25 Oct 2026).
    expect(endOfDay('2026-03-28', 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(endOfDay('2026-03-29', 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(endOfDay('2026-10-24', 'Europe/Berlin').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(endOfDay('2026-10-25', 'Europe/Berlin').toISOString()).toBe('2026-10-25T23:00:00.000Z');
    // Where DST starts at midnight (Chile, 8 Sep 2024: 00:00 → 01:00), the day ends at the skip, not an hour early.
    expect(endOfDay('2024-09-07', 'America/Santiago').toISOString()).toBe('2024-09-08T04:00:00.000Z');
    // And where it ends at midnight (Chile, 7 Apr 2024: 24:00 → 23:00 again), after the repeated hour.
    expect(endOfDay('2024-04-06', 'America/Santiago').toISOString()).toBe('2024-04-07T04:00:00.000Z');
  });
});

describe('closedWhen', () => {
  it('retained or withdrawn closes when announced, restored and cancelled', () => {
    expect(closedWhen('retained', { announceDecision: 'done', restoreAccess: 'done' })).toEqual({ closed: false });
    expect(closedWhen('withdrawn', { announceDecision: 'done', restoreAccess: 'done', cancelInterview: 'done' })).toEqual({ closed: true });
    expect(closedWhen('retained', { announceDecision: 'done', restoreAccess: 'failed', cancelInterview: 'done' })).toEqual({ closed: false });
  });
  it('exit confirmed becomes exited when access is revoked, closed when also announced', () => {
    expect(closedWhen('exit_confirmed', { announceDecision: 'done', revokeAccess: 'pending' })).toEqual({ closed: false });
    expect(closedWhen('exit_confirmed', { announceDecision: 'late', revokeAccess: 'done' })).toEqual({ closed: false, status: 'exited' });
    expect(closedWhen('exit_confirmed', { announceDecision: 'done', revokeAccess: 'done' })).toEqual({ closed: true, status: 'exited' });
  });
});
