import { describe, expect, it } from 'vitest';
import { checkSlot, findFreeSlot, nextWorkingDay, type Booked, type PartnerCalendar } from './slots.ts';

// The demo organisation's partners (packages/demo-org), written out so the tests read on their own.
const weekdays = [1, 2, 3, 4, 5];
const berlin: PartnerCalendar = {
  timezone: 'Europe/Berlin',
  workingHours: { days: weekdays, start: '09:00', end: '17:00' },
  busy: [
    ...weekdays.map((weekday) => ({ weekday, start: '09:00', end: '09:30' })),
    { weekday: 3, start: '13:00', end: '17:00' },
  ],
  booked: [],
};
const newYork: PartnerCalendar = {
  timezone: 'America/New_York',
  workingHours: { days: weekdays, start: '08:30', end: '16:30' },
  busy: [
    { weekday: 1, start: '08:30', end: '10:00' },
    { weekday: 5, start: '12:00', end: '16:30' },
  ],
  booked: [],
};
const singapore: PartnerCalendar = {
  timezone: 'Asia/Singapore',
  workingHours: { days: weekdays, start: '10:00', end: '18:00' },
  busy: [2, 4].map((weekday) => ({ weekday, start: '14:00', end: '15:30' })),
  booked: [],
};

const at = (iso: string) => new Date(iso);
const FAR = '2026-12-31';

function slotStart(calendar: PartnerCalendar, now: string, lastWorkingDay = FAR, after?: string): string {
  const result = findFreeSlot(calendar, { now: at(now), lastWorkingDay, ...(after ? { after: at(after) } : {}) });
  if (!result.found) throw new Error(`expected a slot, got ${result.reason}`);
  expect(result.slot.end.getTime() - result.slot.start.getTime()).toBe(30 * 60_000);
  return result.slot.start.toISOString();
}

/** Every 30-minute slot between two instants, as bookings: a full calendar. */
function bookedBetween(fromIso: string, toIso: string): Booked[] {
  const out: Booked[] = [];
  for (let t = at(fromIso).getTime(); t < at(toIso).getTime(); t += 30 * 60_000) {
    out.push({ start: new Date(t), end: new Date(t + 30 * 60_000) });
  }
  return out;
}

describe('next business day', () => {
  it('when the same UTC instant is Thursday evening in Berlin but Friday morning in Singapore, then Berlin starts Friday and Singapore Monday', () => {
    const now = at('2026-03-05T20:00:00Z'); // Thu 21:00 in Berlin, Fri 04:00 in Singapore
    expect(nextWorkingDay(berlin, now).toISODate()).toBe('2026-03-06');
    expect(nextWorkingDay(singapore, now).toISODate()).toBe('2026-03-09');
    expect(slotStart(berlin, '2026-03-05T20:00:00Z')).toBe('2026-03-06T08:30:00.000Z'); // Fri 09:30 CET (after stand-up)
    expect(slotStart(singapore, '2026-03-05T20:00:00Z')).toBe('2026-03-09T02:00:00.000Z'); // Mon 10:00 SGT
  });

  it('when a resignation arrives on Friday evening, then the interview is on Monday', () => {
    expect(slotStart(berlin, '2026-03-06T17:30:00Z')).toBe('2026-03-09T08:30:00.000Z'); // Mon 09:30 CET
  });

  it('when it arrives on a Saturday or a Sunday, then the next business day is Monday', () => {
    expect(nextWorkingDay(berlin, at('2026-03-07T10:00:00Z')).toISODate()).toBe('2026-03-09');
    expect(nextWorkingDay(berlin, at('2026-03-08T22:30:00Z')).toISODate()).toBe('2026-03-09'); // Sunday 23:30 in Berlin
    expect(nextWorkingDay(berlin, at('2026-03-08T23:30:00Z')).toISODate()).toBe('2026-03-10'); // still Sunday in UTC, Monday 00:30 in Berlin
  });

  it('when it arrives early in the morning of a working day, then that same day is not used (the next business day is)', () => {
    expect(slotStart(berlin, '2026-03-03T05:00:00Z')).toBe('2026-03-04T08:30:00.000Z'); // Tue 06:00 → Wed 09:30
  });
});

describe('daylight saving time', () => {
  it('when Berlin springs forward (2026-03-29), then the slot stays 09:30 local and moves an hour earlier in UTC', () => {
    const now = '2026-03-26T12:00:00Z'; // Thursday
    expect(slotStart(berlin, now)).toBe('2026-03-27T08:30:00.000Z'); // Fri 09:30 CET (+01:00)
    const fridayFull = { ...berlin, booked: bookedBetween('2026-03-27T08:30:00Z', '2026-03-27T16:00:00Z') };
    expect(slotStart(fridayFull, now)).toBe('2026-03-30T07:30:00.000Z'); // Mon 09:30 CEST (+02:00)
  });

  it('when New York springs forward (2026-03-08), then 10:00 local after the Monday sync is 14:00Z, not 15:00Z', () => {
    expect(slotStart(newYork, '2026-03-05T15:00:00Z')).toBe('2026-03-06T13:30:00.000Z'); // Fri 08:30 EST (-05:00)
    expect(slotStart(newYork, '2026-03-06T15:00:00Z')).toBe('2026-03-09T14:00:00.000Z'); // Mon 10:00 EDT (-04:00)
  });

  it('when Berlin falls back (2026-10-25), then Monday 09:30 local is 08:30Z again', () => {
    expect(slotStart(berlin, '2026-10-22T12:00:00Z')).toBe('2026-10-23T07:30:00.000Z'); // Fri 09:30 CEST
    expect(slotStart(berlin, '2026-10-23T12:00:00Z')).toBe('2026-10-26T08:30:00.000Z'); // Mon 09:30 CET
  });

  it('when working hours span the spring-forward gap, then no slot starts at a local time that does not exist', () => {
    const night: PartnerCalendar = {
      timezone: 'Europe/Berlin',
      workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '01:00', end: '04:00' },
      busy: [],
      booked: [],
    };
    const now = '2026-03-28T12:00:00Z';
    const starts: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      after = slotStart(night, now, FAR, after);
      starts.push(after);
    }
    // 01:00, 01:30 CET; 02:00 and 02:30 do not exist; 03:00, 03:30 CEST; then Monday 01:00 CEST.
    expect(starts).toEqual([
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-29T23:00:00.000Z',
    ]);
  });
});

describe('busy time', () => {
  it('when the weekly stand-up holds 09:00–09:30, then the first slot is 09:30', () => {
    expect(slotStart(berlin, '2026-03-02T12:00:00Z')).toBe('2026-03-03T08:30:00.000Z'); // Tue 09:30 CET
  });

  it('when Wednesday morning is booked and the afternoon is a recruiting day, then the slot moves to Thursday', () => {
    const wednesdayMorningBooked = { ...berlin, booked: bookedBetween('2026-03-04T08:30:00Z', '2026-03-04T12:00:00Z') };
    expect(slotStart(wednesdayMorningBooked, '2026-03-03T12:00:00Z')).toBe('2026-03-05T08:30:00.000Z');
  });

  it('when an existing interview partly overlaps two slots, then both are skipped', () => {
    const partial = { ...berlin, booked: [{ start: at('2026-03-03T08:45:00Z'), end: at('2026-03-03T09:15:00Z') }] };
    expect(slotStart(partial, '2026-03-02T12:00:00Z')).toBe('2026-03-03T09:30:00.000Z'); // 10:30 CET
  });

  it('when an interview ends exactly when a slot starts, then that slot is free', () => {
    const adjacent = { ...berlin, booked: [{ start: at('2026-03-03T08:30:00Z'), end: at('2026-03-03T09:00:00Z') }] };
    expect(slotStart(adjacent, '2026-03-02T12:00:00Z')).toBe('2026-03-03T09:00:00.000Z');
  });

  it('when searching after a given slot, then the next free one is returned', () => {
    expect(slotStart(berlin, '2026-03-02T12:00:00Z', FAR, '2026-03-03T08:30:00Z')).toBe('2026-03-03T09:00:00.000Z');
    expect(slotStart(berlin, '2026-03-02T12:00:00Z', FAR, '2026-03-03T15:30:00Z')).toBe('2026-03-04T08:30:00.000Z');
  });

  it('when working hours start off the half hour, then slots still align to :00/:30 local time', () => {
    const odd = { ...singapore, workingHours: { days: weekdays, start: '10:10', end: '18:00' } };
    expect(slotStart(odd, '2026-03-02T00:00:00Z')).toBe('2026-03-03T02:30:00.000Z'); // Tue 10:30 SGT
  });

  it('when the last half hour ends after working hours, then it is not offered', () => {
    const short = { ...singapore, workingHours: { days: weekdays, start: '10:00', end: '10:45' } };
    const oneBooked = { ...short, booked: [{ start: at('2026-03-03T02:00:00Z'), end: at('2026-03-03T02:30:00Z') }] };
    expect(slotStart(oneBooked, '2026-03-02T00:00:00Z')).toBe('2026-03-04T02:00:00.000Z');
  });
});

describe('no free slot', () => {
  it('when every slot up to the last working day is taken, then the result says the calendar is full', () => {
    const full = { ...berlin, booked: bookedBetween('2026-03-02T00:00:00Z', '2026-03-14T00:00:00Z') };
    expect(findFreeSlot(full, { now: at('2026-03-02T12:00:00Z'), lastWorkingDay: '2026-03-13' })).toEqual({ found: false, reason: 'calendar-full' });
    // The day after the last working day is never used, even though it is free.
    expect(findFreeSlot(berlin, { now: at('2026-03-02T12:00:00Z'), lastWorkingDay: '2026-03-03' })).toEqual({
      found: false,
      reason: 'last-working-day-too-close',
    });
  });

  it('when the working hours are too short for one slot (23:31–23:59, the first aligned start being 24:00), then no hours are shared', () => {
    const late: PartnerCalendar = { ...berlin, workingHours: { days: weekdays, start: '23:31', end: '23:59' }, busy: [] };
    expect(findFreeSlot(late, { now: at('2026-03-02T08:00:00Z'), lastWorkingDay: FAR })).toEqual({ found: false, reason: 'no-shared-hours' });
  });

  it('when the last working day is the next business day, then it is too close; a day later the interview fits', () => {
    const now = at('2026-03-05T20:00:00Z'); // Thu evening in Berlin
    expect(findFreeSlot(berlin, { now, lastWorkingDay: '2026-03-06' })).toEqual({ found: false, reason: 'last-working-day-too-close' });
    const saturday = findFreeSlot(berlin, { now, lastWorkingDay: '2026-03-07' });
    expect(saturday.found && saturday.slot.start.toISOString()).toBe('2026-03-06T08:30:00.000Z');
  });

  it('when the last working day is on the same date in Berlin as the only free slot, then the slot is rejected', () => {
    // Friday 09:30 CET is free, but the last working day is that Friday: the slot's local date is not before it.
    expect(findFreeSlot(berlin, { now: at('2026-03-05T12:00:00Z'), lastWorkingDay: '2026-03-06' }).found).toBe(false);
  });

  it('when the last working day is in the past, then there is no slot', () => {
    expect(findFreeSlot(berlin, { now: at('2026-03-05T12:00:00Z'), lastWorkingDay: '2026-03-01' }).found).toBe(false);
  });
});

describe('checking a requested start', () => {
  const search = { now: at('2026-03-02T12:00:00Z'), lastWorkingDay: '2026-03-20' };
  const check = (iso: string, calendar: PartnerCalendar = berlin) => checkSlot(calendar, search, at(iso));

  it('when the start is a free aligned slot in working hours, then it is accepted with a 30-minute end', () => {
    expect(check('2026-03-03T10:00:00+01:00')).toEqual({ ok: true, slot: { start: at('2026-03-03T09:00:00Z'), end: at('2026-03-03T09:30:00Z') } });
  });

  it.each([
    ['2026-03-03T10:15:00+01:00', 'on :00 or :30'],
    ['2026-03-03T16:45:00+01:00', 'on :00 or :30'],
    ['2026-03-03T17:00:00+01:00', 'within working hours'],
    ['2026-03-03T08:30:00+01:00', 'within working hours'],
    ['2026-03-07T10:00:00+01:00', 'not a working day'],
    ['2026-03-03T09:00:00+01:00', 'busy'],
    ['2026-03-04T14:00:00+01:00', 'busy'],
    ['2026-03-01T10:00:00+01:00', 'past'],
    ['2026-03-20T10:00:00+01:00', 'last working day'],
  ])('when the start is %s, then it is refused (%s)', (iso, reason) => {
    const result = check(iso);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });

  it('when another interview overlaps the requested slot, then it is refused', () => {
    const taken = { ...berlin, booked: [{ start: at('2026-03-03T09:15:00Z'), end: at('2026-03-03T09:45:00Z') }] };
    expect(check('2026-03-03T10:00:00+01:00', taken)).toEqual({ ok: false, reason: 'the HR partner is busy at that time' });
  });
});
