import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { findFreeSlot, localDate, minutesOf, nextWorkingDay, SLOT_MINUTES, type Availability, type Booked, type PartnerCalendar, type Slot, type SlotResult, type SlotSearch, type WorkingHours } from './slots.ts';

/*
 * The reference: findFreeSlot as it was before its per-day layout and booked-interview lookup (commit
 * 904f71e), slot by slot with luxon, every booked interview scanned. The faster search must answer
 * exactly the same, whatever the zones (DST, half-hour and midnight changes), hours, meetings, bookings.
 */
function referenceFindFreeSlot(calendar: PartnerCalendar, search: SlotSearch, employee?: Availability): SlotResult {
  const zone = calendar.timezone;
  const firstDay = referenceNextWorkingDay(calendar, search.now);
  const lastDay = parseDay(search.lastWorkingDay, zone);
  if (firstDay >= lastDay) return { found: false, reason: 'last-working-day-too-close' };
  let shared = false;
  for (let day = firstDay; day < lastDay; day = day.plus({ days: 1 })) {
    if (!calendar.workingHours.days.includes(day.weekday)) continue;
    for (const slot of daySlots(calendar.workingHours, day)) {
      if (employee && (!inEmployeeHours(employee, slot) || !beforeLastDay(employee, slot, search.lastWorkingDay))) continue;
      if (search.after && slot.start <= search.after) continue;
      shared = true;
      if (isFree(calendar, slot)) return { found: true, slot };
    }
  }
  return { found: false, reason: shared ? 'calendar-full' : 'no-shared-hours' };
}

/** Whether a slot lies on a working day of the employee, inside their hours, in their zone. */
function inEmployeeHours(employee: Availability, slot: Slot): boolean {
  const { timezone, workingHours } = employee;
  const start = DateTime.fromJSDate(slot.start, { zone: timezone });
  if (!workingHours.days.includes(start.weekday)) return false;
  const day = start.startOf('day');
  return slot.start >= localInstant(day, minutesOf(workingHours.start)).toJSDate() && slot.end <= localInstant(day, minutesOf(workingHours.end)).toJSDate();
}

/** The interview happens before the employee's last working day begins where they are, too. */
function beforeLastDay(employee: Availability, slot: Slot, lastWorkingDay: string): boolean {
  return slot.start < parseDay(lastWorkingDay, employee.timezone).toJSDate();
}

/** Candidate slots of one day, aligned to :00/:30 local time; local times that do not exist (DST gap) are skipped. */
function daySlots(hours: WorkingHours, day: DateTime): Slot[] {
  const open = minutesOf(hours.start);
  const close = minutesOf(hours.end);
  const dayEnd = localInstant(day, close);
  const slots: Slot[] = [];
  for (let m = Math.ceil(open / SLOT_MINUTES) * SLOT_MINUTES; m + SLOT_MINUTES <= close; m += SLOT_MINUTES) {
    const start = atLocal(day, m);
    if (!start) continue;
    const end = start.plus({ minutes: SLOT_MINUTES });
    if (end > dayEnd) continue;
    slots.push({ start: start.toJSDate(), end: end.toJSDate() });
  }
  return slots;
}

function isFree(calendar: PartnerCalendar, slot: Slot): boolean {
  const local = DateTime.fromJSDate(slot.start, { zone: calendar.timezone });
  const day = local.startOf('day');
  for (const b of calendar.busy) {
    if (b.weekday !== local.weekday) continue;
    const busy = { start: localInstant(day, minutesOf(b.start)).toJSDate(), end: localInstant(day, minutesOf(b.end)).toJSDate() };
    if (overlaps(slot, busy)) return false;
  }
  return !calendar.booked.some((b) => overlaps(slot, b));
}

function overlaps(a: Slot, b: Booked): boolean {
  return a.start < b.end && b.start < a.end;
}

/** A local wall-clock time on a day; one inside a spring-forward gap moves forward by the gap (luxon's rule). */
function localInstant(day: DateTime, minutes: number): DateTime {
  return day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 });
}

/** Like localInstant, but undefined when that wall-clock time does not exist that day: no slot starts in a DST gap. */
function atLocal(day: DateTime, minutes: number): DateTime | undefined {
  const t = localInstant(day, minutes);
  return t.hour * 60 + t.minute === minutes ? t : undefined;
}

function parseDay(isoDate: string, zone: string): DateTime {
  const d = DateTime.fromISO(isoDate, { zone });
  if (!d.isValid) throw new Error(`not a date: ${isoDate}`);
  return d.startOf('day');
}

/** nextWorkingDay as it was before it remembered its answers (and "today" per zone). */
function referenceNextWorkingDay(calendar: Pick<PartnerCalendar, 'timezone' | 'workingHours'>, now: Date): DateTime {
  const today = DateTime.fromJSDate(now, { zone: calendar.timezone }).startOf('day');
  for (let i = 1; i <= 7; i++) {
    const day = today.plus({ days: i });
    if (calendar.workingHours.days.includes(day.weekday)) return day;
  }
  return today.plus({ years: 1000 });
}

describe('the local day of an instant and the next working day, remembered', () => {
  it('property: in any order of instants and zones (changes of offset at midnight included), each answer is what luxon works out afresh', () => {
    const zones = ['Europe/Berlin', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'America/Asuncion', 'Pacific/Chatham', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'UTC'];
    // Around midnights and changes of offset of 2026 (Berlin, Santiago both ways, Havana, Beirut), or any moment of the year.
    const around = ['2026-03-29T01:00:00Z', '2026-04-05T03:00:00Z', '2026-09-06T04:00:00Z', '2026-03-08T05:00:00Z', '2026-03-28T22:00:00Z', '2026-10-04T04:00:00Z'].map((d) => Date.parse(d));
    const moment = fc
      .oneof(
        fc.tuple(fc.constantFrom(...around), fc.integer({ min: -36 * 60, max: 36 * 60 })).map(([t, minutes]) => t + minutes * 60_000),
        fc.tuple(fc.constantFrom(...around), fc.integer({ min: -2, max: 2 })).map(([t, ms]) => t + ms),
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
      )
      .map((t) => new Date(t));
    const ask = fc.record({ now: moment, zone: fc.constantFrom(...zones), days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 7 }) });
    fc.assert(
      fc.property(fc.array(ask, { minLength: 1, maxLength: 40 }), (asks) => {
        for (const { now, zone, days } of asks) {
          expect(localDate(now, zone), `${now.toISOString()} ${zone}`).toBe(DateTime.fromJSDate(now, { zone }).toFormat('yyyy-MM-dd'));
          const calendar = { timezone: zone, workingHours: { days, start: '09:00', end: '17:00' } };
          const next = nextWorkingDay(calendar, now);
          const expected = referenceNextWorkingDay(calendar, now);
          expect([next.toISO(), next.toMillis(), next.zoneName], `${now.toISOString()} ${zone} ${days.join(',')}`).toEqual([expected.toISO(), expected.toMillis(), expected.zoneName]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('when instants come in order across each midnight (a remembered day ends there), then the date turns exactly at the midnight, changes of offset included', () => {
    const zones = ['Europe/Berlin', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'America/Asuncion', 'Pacific/Chatham', 'UTC'];
    const dates = ['2026-03-07', '2026-03-08', '2026-03-28', '2026-03-29', '2026-04-04', '2026-04-05', '2026-09-06', '2026-10-04', '2026-10-25'];
    for (const zone of zones) {
      for (const date of dates) {
        const midnight = DateTime.fromISO(date, { zone }).startOf('day').toMillis();
        for (const t of [midnight - 1, midnight, midnight + 1]) {
          expect(localDate(new Date(t), zone), `${new Date(t).toISOString()} ${zone}`).toBe(DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd'));
        }
      }
    }
  });

  it('when the zone is unknown, then the local date is refused, as before', () => {
    expect(() => localDate(new Date('2026-03-29T01:00:00Z'), 'Mars/Olympus_Mons')).toThrow('unknown time zone: Mars/Olympus_Mons');
  });
});

describe('findFreeSlot, laid out per day with booked interviews looked up', () => {
  it('property: answers exactly as the slot-by-slot search did, whatever the zones, hours, meetings, bookings and "after"', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Singapore', 'Australia/Lord_Howe', 'America/Santiago', 'America/Havana', 'Asia/Kathmandu', 'Pacific/Chatham', 'Europe/London', 'UTC'];
    const hhmm = (quarter: number) => `${String(Math.floor(quarter / 4)).padStart(2, '0')}:${String((quarter % 4) * 15).padStart(2, '0')}`;
    const hours = fc
      .tuple(fc.integer({ min: 0, max: 94 }), fc.integer({ min: 1, max: 60 }))
      .map(([from, length]): Pick<WorkingHours, 'start' | 'end'> => ({ start: hhmm(from), end: hhmm(Math.min(95, from + length)) }));
    const days = fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 });
    const availability = fc.record({ timezone: fc.constantFrom(...zones), hours, days }).map(({ timezone, hours: h, days: d }): Availability => ({ timezone, workingHours: { days: d, ...h } }));
    const busy = fc.array(fc.record({ weekday: fc.integer({ min: 1, max: 7 }), hours }).map(({ weekday, hours: h }) => ({ weekday, ...h })), { maxLength: 6 });
    const base = Date.parse('2026-01-01T00:00:00Z');
    const year = 366 * 86_400_000;
    // Any moment of the year, or a few days before one of the zones' changes of offset (2026).
    const changes = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-09-06', '2026-09-27', '2026-10-04', '2026-10-25', '2026-11-01'].map((d) => Date.parse(`${d}T00:00:00Z`));
    const moment = fc
      .oneof(fc.integer({ min: base, max: base + year }), fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -4 * 86_400_000, max: 0 })).map(([change, before]) => change + before))
      .map((t) => new Date(t));
    // Bookings on the half-hour grid (as HR books them) and off it (overlapping, any length), near the moment.
    const booked = (now: Date) =>
      fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: 2_000 }).map((n): Booked => {
            const start = Math.ceil(now.getTime() / 1_800_000) * 1_800_000 + n * 1_800_000;
            return { start: new Date(start), end: new Date(start + SLOT_MINUTES * 60_000) };
          }),
          fc.tuple(fc.integer({ min: -86_400_000, max: 40 * 86_400_000 }), fc.integer({ min: 60_000, max: 6 * 3_600_000 })).map(([from, length]): Booked => ({
            start: new Date(now.getTime() + from),
            end: new Date(now.getTime() + from + length),
          })),
        ),
        { maxLength: 120 },
      );
    const scenario = fc
      .record({ partner: availability, employee: fc.option(availability, { nil: undefined }), busy, now: moment, noticeDays: fc.integer({ min: 1, max: 45 }), afterHours: fc.option(fc.integer({ min: 0, max: 30 * 24 }), { nil: undefined }) })
      .chain((s) => booked(s.now).map((b) => ({ ...s, booked: b })));
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(scenario, (s) => {
        const calendar: PartnerCalendar = { ...s.partner, busy: s.busy, booked: s.booked };
        const search: SlotSearch = {
          now: s.now,
          lastWorkingDay: DateTime.fromJSDate(s.now, { zone: 'UTC' }).plus({ days: s.noticeDays }).toISODate()!,
          ...(s.afterHours === undefined ? {} : { after: new Date(s.now.getTime() + s.afterHours * 3_600_000) }),
        };
        const expected = referenceFindFreeSlot(calendar, search, s.employee);
        outcomes.set(expected.found ? 'found' : expected.reason, (outcomes.get(expected.found ? 'found' : expected.reason) ?? 0) + 1);
        expect(findFreeSlot(calendar, search, s.employee)).toEqual(expected);
      }),
      { seed: 20261204, numRuns: 1_500 },
    );
    // The generator reaches every outcome.
    expect([...outcomes.keys()].sort()).toEqual(['calendar-full', 'found', 'last-working-day-too-close', 'no-shared-hours']);
  }, 120_000); // hundreds of searches, the reference's slowly: slow on a loaded machine, whatever the code does

  it('books slot after slot through a day whose offset changes, exactly as the slot-by-slot search did', () => {
    const cases: Array<[string, string]> = [
      ['Europe/Berlin', '2026-03-29'], ['Europe/Berlin', '2026-10-25'], ['America/New_York', '2026-03-08'], ['America/New_York', '2026-11-01'],
      ['Australia/Lord_Howe', '2026-04-05'], ['Australia/Lord_Howe', '2026-10-04'], ['America/Santiago', '2026-04-05'], ['America/Santiago', '2026-09-06'],
      ['America/Havana', '2026-03-08'], ['America/Havana', '2026-11-01'], ['Pacific/Chatham', '2026-04-05'], ['Pacific/Chatham', '2026-09-27'],
    ];
    const hours: Array<[string, string]> = [['00:00', '06:00'], ['01:00', '04:00'], ['00:00', '23:30'], ['21:00', '23:59']];
    let booked = 0;
    for (const [timezone, change] of cases) {
      for (const [start, end] of hours) {
        const calendar: PartnerCalendar = { timezone, workingHours: { days: [1, 2, 3, 4, 5, 6, 7], start, end }, busy: [], booked: [] };
        const now = new Date(Date.parse(`${change}T12:00:00Z`) - 2 * 86_400_000);
        const search: SlotSearch = { now, lastWorkingDay: DateTime.fromJSDate(now, { zone: 'UTC' }).plus({ days: 4 }).toISODate()! };
        for (;;) {
          const expected = referenceFindFreeSlot(calendar, search);
          expect(findFreeSlot(calendar, search), `${timezone} ${change} ${start}–${end}, ${calendar.booked.length} booked`).toEqual(expected);
          if (!expected.found) break;
          calendar.booked = [...calendar.booked, expected.slot];
          booked++;
        }
      }
    }
    expect(booked).toBeGreaterThan(1_000);
  }, 60_000); // thousands of searches, the reference's in O(booked) each
});
