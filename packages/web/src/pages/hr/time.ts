/**
 * Wall-clock time in a named zone, without a date library (the bundle budget): the browser's Intl knows
 * every IANA zone, and an instant's offset in a zone is what its wall clock there says minus UTC.
 */

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: number, timeZone: string): Wall {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year ?? 0, month: parts.month ?? 1, day: parts.day ?? 1, hour: (parts.hour ?? 0) % 24, minute: parts.minute ?? 0 };
}

/** Milliseconds the zone's wall clock is ahead of UTC at this instant. */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - Math.floor(instant / 60_000) * 60_000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The calendar day of an instant in a zone: 'YYYY-MM-DD'. */
export function dayIn(iso: string | number | Date, timeZone: string): string {
  const w = wallClock(new Date(iso).getTime(), timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** An instant as a `datetime-local` value in a zone: 'YYYY-MM-DDTHH:mm'. */
export function toLocalInput(iso: string, timeZone: string): string {
  const w = wallClock(new Date(iso).getTime(), timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/**
 * A wall-clock time in a zone ('YYYY-MM-DDTHH:mm') as an ISO instant; undefined when it is not one. The
 * offset is looked up twice, so a time on the other side of a clock change from its UTC reading is right too;
 * in the hour a clock repeats, it is the first of the two.
 */
export function fromLocalInput(value: string, timeZone: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(guess)) return undefined;
  const o1 = offsetAt(guess, timeZone);
  let t = guess - o1;
  const o2 = offsetAt(t, timeZone);
  if (o2 !== o1 && offsetAt(guess - o2, timeZone) === o2) t = guess - o2;
  return new Date(t).toISOString();
}

/** Adds days to a calendar day 'YYYY-MM-DD'. */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10);
}

/** ISO weekday of a calendar day: 1 = Monday … 7 = Sunday. */
export function weekday(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  const w = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay();
  return w === 0 ? 7 : w;
}

/** The zone this browser is in. */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** "Fri 4 Dec, 09:30–10:00 CET" — an interval in a zone, the zone named. */
export function formatSpan(startIso: string, endIso: string, timeZone: string): string {
  const start = new Date(startIso);
  const end = new Date(endIso);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return `${startIso}–${endIso}`;
  const day = start.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone });
  const from = start.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', timeZone });
  const to = end.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' });
  return `${day}, ${from}–${to}`;
}

/** "09:30 CET" — just the time of an instant in a zone, the zone named. */
export function formatTime(iso: string, timeZone: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' });
}

/** A zone's city, for people: 'Europe/Berlin' → 'Berlin'. */
export function zoneCity(timeZone: string): string {
  return (timeZone.split('/').pop() ?? timeZone).replaceAll('_', ' ');
}
