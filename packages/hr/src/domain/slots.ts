import { DateTime } from 'luxon';

/**
 * Finding a free slot for an exit interview in the HR partner's calendar that also lies in the
 * employee's working hours. Pure: everything it needs, including "now", comes in as arguments.
 *
 * Each person's calendar is reasoned about in their own time zone, because working hours and weekly
 * meetings are wall-clock times there: 09:00 stays 09:00 local across a DST change, so its UTC
 * instant moves by an hour. Slots are laid out on the partner's :00/:30 grid; one is offered only
 * if it also falls on a working day of the employee, inside their hours, in their zone. Instants
 * (Date) go in and out.
 */

export const SLOT_MINUTES = 30;

export interface WorkingHours {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: readonly number[];
  /** 'HH:mm', local to the partner's zone. */
  start: string;
  end: string;
}

/** A weekly meeting, in the partner's local wall-clock time. */
export interface WeeklyBusy {
  weekday: number;
  start: string;
  end: string;
}

/** When someone works: their working days and hours, in their own zone. */
export interface Availability {
  /** IANA zone, e.g. 'America/Los_Angeles'. */
  timezone: string;
  workingHours: WorkingHours;
}

export interface Booked {
  start: Date;
  end: Date;
}

export interface PartnerCalendar {
  /** IANA zone of the partner, e.g. 'Europe/Berlin'. */
  timezone: string;
  workingHours: WorkingHours;
  busy: readonly WeeklyBusy[];
  /** Existing non-cancelled interviews of the partner (any overlap makes a slot unavailable). */
  booked: readonly Booked[];
}

export interface SlotSearch {
  now: Date;
  /** 'YYYY-MM-DD': the interview must happen on a day (in the partner's zone) strictly before it. */
  lastWorkingDay: string;
  /** Only slots starting strictly after this instant (used to find "the next slot after the current one"). */
  after?: Date;
}

export interface Slot {
  start: Date;
  end: Date;
}

export type SlotResult =
  | { found: true; slot: Slot }
  | { found: false; reason: NoSlotReason };

/**
 * Why no slot: the last working day leaves no working day before it; the two people share no
 * working hours before it (different zones or days); or the hours they share are all taken.
 */
export type NoSlotReason = 'last-working-day-too-close' | 'no-shared-hours' | 'calendar-full';

export type SlotCheck = { ok: true; slot: Slot } | { ok: false; reason: string };

/**
 * The earliest free 30-minute slot from the partner's next working day (after today in the partner's
 * zone) up to, not including, the last working day (in either person's zone), in the working hours
 * of both the partner and, when given, the employee.
 *
 * Runs under the partner's lock while a burst books one interview after another, each walking past
 * every slot booked before it: the booked interviews are looked up, not scanned, and a day's slots are
 * laid out once per process (dayLayout), not once per search: over the days laid out before, the walk
 * does one step of zone arithmetic per day (bench/slots.ts: 700 bookings of one partner in a row).
 */
export function findFreeSlot(calendar: PartnerCalendar, search: SlotSearch, employee?: Availability): SlotResult {
  const zone = calendar.timezone;
  const firstDay = nextWorkingDay(calendar, search.now);
  const lastDay = parseDay(search.lastWorkingDay, zone);
  if (firstDay >= lastDay) return { found: false, reason: 'last-working-day-too-close' };
  const employeeEnd = employee ? parseDay(search.lastWorkingDay, employee.timezone).toJSDate() : undefined;
  const taken = bookedIndex(calendar.booked);
  let busyKey: string | undefined;
  /** The slots of the partner's days in the range, each day's employee hours worked out only when a slot asks. */
  function* candidates(free: boolean): Generator<Slot> {
    for (let day = firstDay; day < lastDay; day = day.plus({ days: 1 })) {
      if (!calendar.workingHours.days.includes(day.weekday)) continue;
      const slots = dayLayout(calendar.workingHours, day);
      let busy: readonly Slot[] | undefined;
      let employeeHours: readonly Slot[] | undefined;
      for (const slot of slots) {
        if (search.after && slot.start <= search.after) continue;
        // A booked slot is passed over first: a calendar full for weeks costs each day's layout alone.
        if (free && taken(slot)) continue;
        if (employee) {
          employeeHours ??= employeeDays(employee, slots[0]!.start, slots.at(-1)!.start);
          if (!(slot.start < employeeEnd!) || !employeeHours.some((w) => slot.start >= w.start && slot.end <= w.end)) continue;
        }
        if (free) {
          busy ??= partnerBusyDay(calendar, (busyKey ??= calendar.busy.map((b) => `${b.weekday} ${b.start} ${b.end}`).join(',')), day);
          if (busy.some((b) => overlaps(slot, b))) continue;
        }
        yield slot;
      }
    }
  }
  // A copy: the day's layout is shared by every search of the process.
  for (const slot of candidates(true)) return { found: true, slot: { start: new Date(slot.start), end: new Date(slot.end) } };
  // None free: were there hours both work at all (then they are taken), or none?
  for (const _ of candidates(false)) return { found: false, reason: 'calendar-full' };
  return { found: false, reason: 'no-shared-hours' };
}

/**
 * The employee's working hours, as instants, on each of their working days (in their zone) from the
 * day of `from` to the day of `to`. A slot lies in their hours (inEmployeeHours) exactly when one of
 * these contains it: each lies inside its own local day, so containing the slot puts its start there.
 */
function employeeWindows(employee: Availability, from: Date, to: Date): Slot[] {
  const { timezone, workingHours } = employee;
  const last = DateTime.fromJSDate(to, { zone: timezone }).startOf('day');
  const windows: Slot[] = [];
  for (let day = DateTime.fromJSDate(from, { zone: timezone }).startOf('day'); day <= last; day = day.plus({ days: 1 })) {
    if (!workingHours.days.includes(day.weekday)) continue;
    windows.push({ start: localInstant(day, minutesOf(workingHours.start)).toJSDate(), end: localInstant(day, minutesOf(workingHours.end)).toJSDate() });
  }
  return windows;
}

/** The partner's weekly meetings on one day of theirs, as instants. */
function busyOfDay(calendar: PartnerCalendar, day: DateTime): Slot[] {
  return calendar.busy
    .filter((b) => b.weekday === day.weekday)
    .map((b) => ({ start: localInstant(day, minutesOf(b.start)).toJSDate(), end: localInstant(day, minutesOf(b.end)).toJSDate() }));
}

/**
 * Whether a slot overlaps a booked interview, in O(log n): sorted by start, with the latest end among
 * the first i; some booking overlaps [s, e) exactly when the latest end among those starting before e
 * is after s.
 */
function bookedIndex(booked: readonly Booked[]): (slot: Slot) => boolean {
  const sorted = booked.map((b) => ({ start: b.start.getTime(), end: b.end.getTime() })).sort((a, b) => a.start - b.start);
  const latestEnd: number[] = [];
  for (const b of sorted) latestEnd.push(Math.max(b.end, latestEnd.at(-1) ?? -Infinity));
  return (slot) => {
    const start = slot.start.getTime();
    const end = slot.end.getTime();
    let lo = 0;
    let hi = sorted.length; // the first index whose booking starts at or after `end`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.start < end) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && latestEnd[lo - 1]! > start;
  };
}

/** Whether a slot lies on a working day of the employee, inside their hours, in their zone. */
function inEmployeeHours(employee: Availability, slot: Slot): boolean {
  const { timezone, workingHours } = employee;
  const start = DateTime.fromJSDate(slot.start, { zone: timezone });
  if (!workingHours.days.includes(start.weekday)) return false;
  const day = start.startOf('day');
  return slot.start >= localInstant(day, minutesOf(workingHours.start)).toJSDate() && slot.end <= localInstant(day, minutesOf(workingHours.end)).toJSDate();
}

/** Why a slot is outside the employee's working days or hours (in their zone), or null when inside. */
function employeeHoursProblem(employee: Availability, slot: Slot): string | null {
  if (inEmployeeHours(employee, slot)) return null;
  const { timezone, workingHours } = employee;
  const start = DateTime.fromJSDate(slot.start, { zone: timezone });
  return `the employee works ${workingHours.start}–${workingHours.end} (${timezone}) on ${describeDays(workingHours.days)}: the slot is at ${start.toFormat('HH:mm')} there${workingHours.days.includes(start.weekday) ? '' : `, a ${start.toFormat('cccc')}`}`;
}

/** The interview happens before the employee's last working day begins where they are, too. */
function beforeLastDay(employee: Availability, slot: Slot, lastWorkingDay: string): boolean {
  return slot.start < parseDay(lastWorkingDay, employee.timezone).toJSDate();
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** ISO weekdays as people write them: 'Mon–Fri', 'Mon, Wed, Fri'. */
export function describeDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  if (!sorted.length) return 'no days';
  const runs: Array<[number, number]> = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && d === last[1] + 1) last[1] = d;
    else runs.push([d, d]);
  }
  const name = (d: number) => DAY_NAMES[d - 1]!;
  return runs.map(([a, b]) => (a === b ? name(a) : b === a + 1 ? `${name(a)}, ${name(b)}` : `${name(a)}–${name(b)}`)).join(', ');
}

/** Checks a requested start: an aligned 30-minute slot inside both people's working hours, free, in the future, before the last working day. */
export function checkSlot(calendar: PartnerCalendar, search: SlotSearch, start: Date, employee?: Availability): SlotCheck {
  const zone = calendar.timezone;
  const local = DateTime.fromJSDate(start, { zone });
  if (start <= search.now) return { ok: false, reason: 'the start is in the past' };
  const day = local.startOf('day');
  if (day >= parseDay(search.lastWorkingDay, zone)) {
    return { ok: false, reason: `the slot is not before the last working day ${search.lastWorkingDay}` };
  }
  if (!calendar.workingHours.days.includes(local.weekday)) {
    return { ok: false, reason: `${local.toFormat('cccc')} is not a working day of the HR partner` };
  }
  const slot = daySlots(calendar.workingHours, day).find((s) => s.start.getTime() === start.getTime());
  if (!slot) {
    return {
      ok: false,
      reason: `the start must be on :00 or :30 within working hours ${calendar.workingHours.start}–${calendar.workingHours.end} (${zone})`,
    };
  }
  if (employee) {
    const outside = employeeHoursProblem(employee, slot);
    if (outside) return { ok: false, reason: outside };
    if (!beforeLastDay(employee, slot, search.lastWorkingDay)) {
      return { ok: false, reason: `the slot is not before the last working day ${search.lastWorkingDay} in ${employee.timezone}` };
    }
  }
  if (!isFree(calendar, slot)) return { ok: false, reason: 'the HR partner is busy at that time' };
  return { ok: true, slot };
}

/** The partner's first working day after today, where "today" is the date of `now` in the partner's zone. */
export function nextWorkingDay(calendar: Pick<PartnerCalendar, 'timezone' | 'workingHours'>, now: Date): DateTime {
  const today = dayAround(now, calendar.timezone).day;
  if (!today.isValid) return firstWorkingDayAfter(calendar.workingHours.days, today);
  const days = calendar.workingHours.days;
  return remembered(nextWorkingDays, `${calendar.timezone}\n${today.toMillis()}\n${days.join(',')}`, () => firstWorkingDayAfter(days, today));
}

function firstWorkingDayAfter(days: readonly number[], today: DateTime): DateTime {
  for (let i = 1; i <= 7; i++) {
    const day = today.plus({ days: i });
    if (days.includes(day.weekday)) return day;
  }
  // No working day at all: a day no last working day can be after.
  return today.plus({ years: 1000 });
}

/*
 * What a search works out per day is the same for every search of the process, and a burst's bookings of one
 * partner walk the same days again and again: each day's slots, the employee's hours around them and the
 * partner's weekly meetings are remembered, keyed by everything they are computed from. A day is keyed by its
 * zone, instant and offset: luxon resolves a wall-clock time that occurs twice by the offset of the DateTime it
 * sets it on. Shared between searches: never mutated.
 */
/**
 * Days remembered per kind at most; then that memory starts afresh. An organisation's partners times the weeks a
 * search walks ahead: a few thousand. The most it holds, 5,000 days of 47 slots (working hours 00:00–23:30), is
 * ≈ 25 MiB; a day of 09:00–17:00 is 16 slots.
 */
const REMEMBERED_MAX = 5_000;
const layouts = new Map<string, readonly Slot[]>();
const employeeHoursByDay = new Map<string, readonly Slot[]>();
const meetingsByDay = new Map<string, readonly Slot[]>();
/*
 * And what every booking works out once before its search — luxon's zone arithmetic, ≈ 3.7 % of the service
 * thread in an orchestrated burst once the days were remembered: the first working day after today (by zone,
 * today and working days), a last working day's start (by zone and date), and the local day around an instant.
 * luxon's DateTimes are immutable: sharing them is safe.
 */
const nextWorkingDays = new Map<string, DateTime>();
const daysOfDates = new Map<string, DateTime>();
/** Per zone, the last local day asked about: a burst asks every zone's "today" again and again. */
const dayOfZone = new Map<string, LocalDay>();

function remembered<T>(memory: Map<string, T>, key: string, compute: () => T): T {
  let value = memory.get(key);
  if (value === undefined) {
    value = compute();
    if (memory.size >= REMEMBERED_MAX) memory.clear();
    memory.set(key, value);
  }
  return value;
}

/** A local day: its start (`day`), its date, and the instants it spans, [from, to). */
interface LocalDay {
  day: DateTime;
  date: string;
  from: number;
  to: number;
}

/**
 * The local day of `instant` in `zone` (invalid, and not remembered, for an unknown zone or an invalid instant). Its
 * span runs from its start to the next day's start, each resolved as luxon resolves the midnight (a midnight that
 * does not exist is the first instant of the day): every instant inside has this date in that zone.
 */
function dayAround(instant: Date, zone: string): LocalDay {
  const t = instant.getTime();
  const known = dayOfZone.get(zone);
  if (known && t >= known.from && t < known.to) return known;
  const day = DateTime.fromJSDate(instant, { zone }).startOf('day');
  const found = { day, date: day.isValid ? day.toFormat('yyyy-MM-dd') : '', from: day.toMillis(), to: day.plus({ days: 1 }).toMillis() };
  if (day.isValid) {
    if (!known && dayOfZone.size >= REMEMBERED_MAX) dayOfZone.clear();
    dayOfZone.set(zone, found);
  }
  return found;
}

const dayKey = (day: DateTime) => `${day.zoneName ?? ''}\n${day.toMillis()}\n${day.offset}`;

/** daySlots, remembered. */
function dayLayout(hours: WorkingHours, day: DateTime): readonly Slot[] {
  return remembered(layouts, `${dayKey(day)}\n${hours.start}\n${hours.end}`, () => daySlots(hours, day));
}

/** employeeWindows, remembered. */
function employeeDays(employee: Availability, from: Date, to: Date): readonly Slot[] {
  const { timezone, workingHours: h } = employee;
  return remembered(employeeHoursByDay, `${timezone}\n${h.days.join(',')}\n${h.start}\n${h.end}\n${from.getTime()}\n${to.getTime()}`, () => employeeWindows(employee, from, to));
}

/** busyOfDay, remembered; `busyKey`: the partner's weekly meetings, written out. */
function partnerBusyDay(calendar: PartnerCalendar, busyKey: string, day: DateTime): readonly Slot[] {
  return remembered(meetingsByDay, `${dayKey(day)}\n${busyKey}`, () => busyOfDay(calendar, day));
}

/**
 * Candidate slots of one day, aligned to :00/:30 local time; local times that do not exist (DST gap) are
 * skipped. A day whose working hours hold no change of UTC offset (every day but two a year, where
 * there are any) is laid out by adding minutes to the opening instant; the other days time by time.
 */
function daySlots(hours: WorkingHours, day: DateTime): Slot[] {
  const open = minutesOf(hours.start);
  const close = minutesOf(hours.end);
  const first = Math.ceil(open / SLOT_MINUTES) * SLOT_MINUTES;
  if (first + SLOT_MINUTES > close) return []; // no slot fits (and `first` may be 24:00, no time of this day)
  const dayEnd = localInstant(day, close);
  const slots: Slot[] = [];
  const opening = atLocal(day, first);
  if (opening && opening.offset === dayEnd.offset && dayEnd.toMillis() - opening.toMillis() === (close - first) * 60_000) {
    const base = opening.toMillis();
    for (let m = first; m + SLOT_MINUTES <= close; m += SLOT_MINUTES) {
      const start = base + (m - first) * 60_000;
      slots.push({ start: new Date(start), end: new Date(start + SLOT_MINUTES * 60_000) });
    }
    return slots;
  }
  for (let m = first; m + SLOT_MINUTES <= close; m += SLOT_MINUTES) {
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

/** Minutes since midnight of 'HH:mm' (00:00–23:59). */
export function minutesOf(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`not a HH:mm time: ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function parseDay(isoDate: string, zone: string): DateTime {
  return remembered(daysOfDates, `${zone}\n${isoDate}`, () => {
    const d = DateTime.fromISO(isoDate, { zone });
    if (!d.isValid) throw new Error(`not a date: ${isoDate}`);
    return d.startOf('day');
  });
}

/** The calendar date ('YYYY-MM-DD') of an instant in a zone. */
export function localDate(instant: Date, zone: string): string {
  const { day, date } = dayAround(instant, zone);
  if (!day.isValid) throw new Error(`unknown time zone: ${zone}`);
  return date;
}
