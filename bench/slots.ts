/**
 * bench/slots.ts — what finding an interview slot costs as a partner's calendar fills up: one HR partner
 * books `--bookings` interviews one after another (as a burst of resignations does, each booking under
 * the partner's lock, seeing every slot booked before it), each with HR's own `findFreeSlot` against the
 * demo organisation's calendars (partner in Berlin with weekly meetings, employee in New York). Reported:
 * CPU µs per booking for the first, middle and last tenth of the bookings, and in all.
 *
 *   npm exec -- node bench/slots.ts [--bookings 700] [--rounds 3]     (npm exec: Node 24 from node_modules)
 *
 * Pure CPU (no database): compare runs of the same machine; ratios from one run only.
 */
import { parseArgs } from 'node:util';
import { findFreeSlot, type Availability, type Booked, type PartnerCalendar } from '../packages/hr/src/domain/slots.ts';

const { values } = parseArgs({ options: { bookings: { type: 'string', default: '700' }, rounds: { type: 'string', default: '3' } } });
const bookings = Number(values.bookings);
const rounds = Number(values.rounds);

const weekdays = [1, 2, 3, 4, 5];
const partner: Omit<PartnerCalendar, 'booked'> = {
  timezone: 'Europe/Berlin',
  workingHours: { days: weekdays, start: '09:00', end: '17:00' },
  busy: [...weekdays.map((weekday) => ({ weekday, start: '09:00', end: '09:30' })), { weekday: 3, start: '13:00', end: '17:00' }],
};
const employee: Availability = { timezone: 'America/New_York', workingHours: { days: weekdays, start: '08:00', end: '17:00' } };
const now = new Date('2026-03-02T10:00:00Z');
const lastWorkingDay = '2027-12-31';

function run(): number[] {
  const booked: Booked[] = [];
  const costs: number[] = [];
  for (let i = 0; i < bookings; i++) {
    const t0 = process.cpuUsage();
    const found = findFreeSlot({ ...partner, booked }, { now, lastWorkingDay }, employee);
    const t = process.cpuUsage(t0);
    if (!found.found) throw new Error(`booking ${i}: no slot (${found.reason})`);
    booked.push(found.slot);
    costs.push(t.user + t.system);
  }
  return costs;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
run(); // warm-up
const all: number[][] = [];
for (let r = 0; r < rounds; r++) all.push(run());
const tenth = Math.max(1, Math.floor(bookings / 10));
const part = (from: number) => mean(all.flatMap((c) => c.slice(from, from + tenth)));
console.log(`findFreeSlot, one partner, ${bookings} bookings in a row, ${rounds} rounds (CPU µs per booking):`);
console.log(`  first tenth ${part(0).toFixed(0)}, middle tenth ${part(Math.floor(bookings / 2 - tenth / 2)).toFixed(0)}, last tenth ${part(bookings - tenth).toFixed(0)}, all ${mean(all.flat()).toFixed(0)}`);
