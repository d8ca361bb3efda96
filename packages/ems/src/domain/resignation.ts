/**
 * The resignation case: its statuses, its steps and the rules that need no I/O.
 *
 *   in_progress ──all three reactions done──▶ awaiting_decision
 *        │
 *        └──a reaction failed for good──────▶ action_required ──(replayed, then done)──▶ awaiting_decision
 *
 * A step is pending until its reaction is reported; past its deadline it is `late` (still awaited).
 */

/** Which step an outcome reported by a service settles, and how. */
export function stepCanBecome(from: StepStatus, to: 'done' | 'failed'): boolean {
  if (from === 'done') return false; // first success wins; a later failure report changes nothing
  if (from === 'failed') return to === 'done'; // a replayed reaction may still succeed
  return true;
}

export const STEP_NAMES = ['notifyManager', 'scheduleInterview', 'blockAccess'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** `late`: still expected, but past its deadline — the reaction may yet arrive (then `done`). */
export const STEP_STATUSES = ['pending', 'late', 'done', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const CASE_STATUSES = ['in_progress', 'awaiting_decision', 'action_required'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Statuses in which a case is still open: an employee has at most one open case. */
export const OPEN_STATUSES: readonly CaseStatus[] = ['in_progress', 'awaiting_decision', 'action_required'];

/** Which service performs each step; the timeline names it. */
export const STEP_SERVICE: Record<StepName, 'notification' | 'hr' | 'access'> = {
  notifyManager: 'notification',
  scheduleInterview: 'hr',
  blockAccess: 'access',
};

/** The calendar day of an instant in a time zone, as 'YYYY-MM-DD'. */
export function localDate(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Without an explicit last working day, the notice period runs from the employee's local today. */
export function defaultLastWorkingDay(submittedAt: Date, timezone: string, noticeDays: number): string {
  return addDays(localDate(submittedAt, timezone), noticeDays);
}

/** A last working day is refused when it lies in the employee's past or absurdly far ahead. */
export function lastWorkingDayProblem(lastWorkingDay: string, submittedAt: Date, timezone: string): string | null {
  const today = localDate(submittedAt, timezone);
  if (lastWorkingDay < today) return `lastWorkingDay ${lastWorkingDay} is in the past (today is ${today} in ${timezone})`;
  if (lastWorkingDay > addDays(today, 366)) return `lastWorkingDay ${lastWorkingDay} is more than a year ahead`;
  return null;
}

/** The case status implied by its steps once the reactions have run. */
export function statusAfterReactions(steps: Record<StepName, StepStatus>): CaseStatus {
  const values = STEP_NAMES.map((s) => steps[s]);
  if (values.some((v) => v === 'pending' || v === 'late')) return 'in_progress';
  if (values.includes('failed')) return 'action_required';
  if (values.every((v) => v === 'done')) return 'awaiting_decision';
  return 'in_progress';
}
