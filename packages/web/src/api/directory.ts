import type { hr } from '@ems/contracts';
import { HrPaths } from '@ems/contracts/paths';
import { get, type Query } from './client.ts';

/** HR's directory and exit interviews (packages/contracts/src/hr.ts), as the signed-in person. */
export type Employee = hr.Employee;
export type HrPartner = hr.HrPartner;
export type WorkingHours = hr.Employee['workingHours'];
/** An exit interview; the employee's own view leaves out HR's notes (null). */
export type Interview = hr.Interview;
export type Page<T> = { items: T[]; nextOffset: number | null };

/** One person of the directory: name, zone, working hours, manager and HR partner (any role may read it). */
export const getEmployee = (id: string, signal?: AbortSignal) => get<Employee>(HrPaths.employee(id), undefined, signal);
/** People whose name or email contains `q`. */
export const searchEmployees = (q: string, signal?: AbortSignal) => get<Page<Employee>>(HrPaths.employees, { q, limit: 20 }, signal);
export const getHrPartner = (id: string, signal?: AbortSignal) => get<HrPartner>(HrPaths.hrPartner(id), undefined, signal);
/** A case's exit interviews (the employee their own, summary view; their HR partner; the HR lead). */
export const listInterviews = (query: Query, signal?: AbortSignal) => get<Page<Interview>>(HrPaths.interviews, query, signal);

const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const WEEKDAY_LONG = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** ISO weekday (1 = Monday … 7 = Sunday) of a calendar day 'YYYY-MM-DD'. */
export function isoWeekday(day: string): number {
  const d = new Date(`${day}T00:00:00Z`);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

export const weekdayName = (isoDay: number) => WEEKDAY_LONG[isoDay - 1] ?? String(isoDay);

/** Working days as people write them: [1,2,3,4,5] → "Mon–Fri"; [1,3,5] → "Mon, Wed, Fri" (as the server's refusal says). */
export function describeWorkingDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const from = WEEKDAY_NAMES[sorted[i]! - 1]!;
    const to = WEEKDAY_NAMES[sorted[j]! - 1]!;
    runs.push(j === i ? from : j === i + 1 ? `${from}, ${to}` : `${from}–${to}`);
    i = j + 1;
  }
  return runs.join(', ') || 'no day';
}

/** Today's calendar day in a time zone, 'YYYY-MM-DD'. */
export function todayIn(timeZone: string, now = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The nearest working day at or before `day` (not before `earliest`), else the next one after it; null when none works. */
export function nearestWorkingDay(day: string, days: readonly number[], earliest: string): string | null {
  if (days.length === 0) return null;
  for (let d = day; d >= earliest; d = addDays(d, -1)) if (days.includes(isoWeekday(d))) return d;
  for (let d = addDays(day, 1), i = 0; i < 7; d = addDays(d, 1), i++) if (days.includes(isoWeekday(d))) return d;
  return null;
}
