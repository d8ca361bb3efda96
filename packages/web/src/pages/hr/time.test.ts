import { describe, expect, it } from 'vitest';
import { addDays, dayIn, fromLocalInput, toLocalInput, weekday } from './time.ts';

describe('wall-clock time in a named zone', () => {
  it('when a Berlin time is entered in winter and in summer, then it is the instant with that offset (CET +1, CEST +2)', () => {
    expect(fromLocalInput('2026-12-04T09:30', 'Europe/Berlin')).toBe('2026-12-04T08:30:00.000Z');
    expect(fromLocalInput('2026-07-01T09:30', 'Europe/Berlin')).toBe('2026-07-01T07:30:00.000Z');
    expect(fromLocalInput('2026-12-04T09:30', 'America/New_York')).toBe('2026-12-04T14:30:00.000Z');
    expect(fromLocalInput('2026-12-04T09:30', 'Asia/Singapore')).toBe('2026-12-04T01:30:00.000Z');
  });

  it('when the time lies on either side of a clock change, then the offset of that side is used', () => {
    // Berlin: 29 March 2026, 02:00 → 03:00; 25 October 2026, 03:00 → 02:00.
    expect(fromLocalInput('2026-03-29T01:30', 'Europe/Berlin')).toBe('2026-03-29T00:30:00.000Z');
    expect(fromLocalInput('2026-03-29T03:30', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    expect(fromLocalInput('2026-10-25T01:30', 'Europe/Berlin')).toBe('2026-10-24T23:30:00.000Z');
    expect(fromLocalInput('2026-10-25T04:00', 'Europe/Berlin')).toBe('2026-10-25T03:00:00.000Z');
    // The hour a clock repeats (Los Angeles, 1 November 2026, 01:00–02:00 twice): the first of the two.
    expect(fromLocalInput('2026-11-01T01:30', 'America/Los_Angeles')).toBe('2026-11-01T08:30:00.000Z');
  });

  it('when an instant is shown for a datetime-local field, then the field gives the same instant back', () => {
    for (const zone of ['Europe/Berlin', 'Europe/London', 'America/Los_Angeles', 'Asia/Singapore']) {
      for (const iso of ['2026-01-15T08:00:00.000Z', '2026-06-30T23:45:00.000Z', '2026-11-02T09:30:00.000Z']) {
        expect(fromLocalInput(toLocalInput(iso, zone), zone)).toBe(iso);
      }
    }
  });

  it('when something is not a date and time, then there is no instant', () => {
    expect(fromLocalInput('', 'Europe/Berlin')).toBeUndefined();
    expect(fromLocalInput('2026-12-04', 'Europe/Berlin')).toBeUndefined();
  });

  it('when the day of an instant is asked in two zones, then each says its own calendar day', () => {
    expect(dayIn('2026-12-03T23:30:00.000Z', 'Europe/Berlin')).toBe('2026-12-04');
    expect(dayIn('2026-12-03T23:30:00.000Z', 'America/New_York')).toBe('2026-12-03');
    expect(weekday('2026-12-06')).toBe(7);
    expect(weekday('2026-12-07')).toBe(1);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});
