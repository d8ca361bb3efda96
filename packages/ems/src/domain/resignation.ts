/**
 * The resignation case: its statuses, its steps and the rules that need no I/O.
 *
 *   in_progress ──all three reactions done──▶ awaiting_decision ──decision: retained──▶ retained ─┐
 *        │                                        ▲       │  │                                    ├─ closed once access is
 *        └──a reaction failed for good──▶ action_required ─┤  └──withdrawal──────────▶ withdrawn ─┘  restored, the interview
 *                 (replayed, then done) ──────────┘       │                                         cancelled, both told
 *                                                         └──decision: exit_confirmed──▶ exit_confirmed ──last day ends,
 *                                                                 (again with another day: moves it)      all access revoked──▶ exited
 *
 * A step is pending until its reaction is reported; past its deadline it is `late` (still awaited).
 * Any other request is an illegal transition (HTTP 409); repeating one that took effect changes nothing.
 */

/** Which step an outcome reported by a service settles, and how. */
export function stepCanBecome(from: StepStatus, to: 'done' | 'failed'): boolean {
  if (from === 'done') return false; // first success wins; a later failure report changes nothing
  if (from === 'failed') return to === 'done'; // a replayed reaction may still succeed
  return true;
}

export const STEP_NAMES = ['notifyManager', 'scheduleInterview', 'suspendAccess'] as const;
/** What a decision sets off, tracked like the first three. */
export const CLOSING_STEPS = {
  retained: ['announceDecision', 'restoreAccess', 'cancelInterview'],
  withdrawn: ['announceDecision', 'restoreAccess', 'cancelInterview'],
  exit_confirmed: ['announceDecision', 'revokeAccess'],
} as const;
export const ALL_STEP_NAMES = [...STEP_NAMES, 'announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'] as const;
export type StepName = (typeof ALL_STEP_NAMES)[number];
export type ReactionStep = (typeof STEP_NAMES)[number];

/** `late`: still expected, but past its deadline — the reaction may yet arrive (then `done`). */
export const STEP_STATUSES = ['pending', 'late', 'done', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const CASE_STATUSES = ['in_progress', 'awaiting_decision', 'action_required', 'retained', 'withdrawn', 'exit_confirmed', 'exited'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** Statuses in which the case waits for a decision (or a withdrawal). */
export const UNDECIDED: readonly CaseStatus[] = ['in_progress', 'awaiting_decision', 'action_required'];

export type DecisionKind = 'retained' | 'withdrawn' | 'exit_confirmed';

export interface CaseDecisionState {
  kind: DecisionKind;
  lastWorkingDay: string | null;
  revision: number;
  /** exit_confirmed: when access is revoked; from then on the day can no longer move. */
  revokeAt?: string | null | undefined;
}

export interface DecisionRequest {
  kind: DecisionKind;
  /** exit_confirmed: the final last working day; defaults to the current one. */
  lastWorkingDay?: string | undefined;
}

export type Transition =
  | { outcome: 'apply'; status: CaseStatus; kind: DecisionKind; lastWorkingDay: string | null; revision: number; moved: boolean }
  | { outcome: 'unchanged' }
  | { outcome: 'illegal'; detail: string };

/**
 * The case's state machine for decisions: what a decision (or withdrawal) does to a case in `status`,
 * already decided as `decision`. `today` is the employee's local date (a new last day may not be past).
 */
export function decideTransition(
  kase: { status: CaseStatus; lastWorkingDay: string; decision: CaseDecisionState | null },
  request: DecisionRequest,
  today: string,
  now?: Date,
): Transition {
  const tooFar = (day: string) => day > addDays(today, 366);
  const withdrawal = request.kind === 'withdrawn';
  const current = kase.decision;
  if (current) {
    if (current.kind !== request.kind) {
      return { outcome: 'illegal', detail: `The case is already ${describeDecision(current.kind)}; it cannot ${withdrawal ? 'be withdrawn' : `become ${describeDecision(request.kind)}`}` };
    }
    if (request.kind !== 'exit_confirmed' || !request.lastWorkingDay || request.lastWorkingDay === current.lastWorkingDay) return { outcome: 'unchanged' };
    if (kase.status === 'exited' || (now && current.revokeAt && now.getTime() >= Date.parse(current.revokeAt))) {
      return { outcome: 'illegal', detail: `The last working day ${current.lastWorkingDay} has ended (access is revoked at its end); the day can no longer move` };
    }
    if (tooFar(request.lastWorkingDay)) return { outcome: 'illegal', detail: `The last working day ${request.lastWorkingDay} is more than a year ahead` };
    if (request.lastWorkingDay < today) return { outcome: 'illegal', detail: `The last working day cannot move into the past (${request.lastWorkingDay}; today is ${today})` };
    return { outcome: 'apply', status: 'exit_confirmed', kind: 'exit_confirmed', lastWorkingDay: request.lastWorkingDay, revision: current.revision + 1, moved: true };
  }
  if (kase.status === 'in_progress') {
    return { outcome: 'illegal', detail: `The first reactions to the resignation are still running; ${withdrawal ? 'withdraw' : 'decide'} once the case is awaiting_decision` };
  }
  if (!UNDECIDED.includes(kase.status)) return { outcome: 'illegal', detail: `A case in status ${kase.status} cannot ${withdrawal ? 'be withdrawn' : 'be decided'}` };
  if (request.kind === 'exit_confirmed') {
    const day = request.lastWorkingDay ?? kase.lastWorkingDay;
    if (day < today) return { outcome: 'illegal', detail: `The last working day ${day} is in the past (today is ${today}); confirm the exit with a lastWorkingDay` };
    if (tooFar(day)) return { outcome: 'illegal', detail: `The last working day ${day} is more than a year ahead` };
    return { outcome: 'apply', status: 'exit_confirmed', kind: 'exit_confirmed', lastWorkingDay: day, revision: 1, moved: false };
  }
  return { outcome: 'apply', status: request.kind, kind: request.kind, lastWorkingDay: null, revision: 1, moved: false };
}

function describeDecision(kind: DecisionKind): string {
  return kind === 'exit_confirmed' ? 'exit-confirmed' : kind;
}

/**
 * The instant the last working day ends in the employee's zone: the first instant whose local date is
 * the next day (local midnight; where DST skips midnight, the first instant after the skip).
 */
export function endOfDay(date: string, timezone: string): Date {
  const next = addDays(date, 1);
  const target = new Date(`${next}T00:00:00Z`).getTime();
  // The zone's offset a day before and a day after: one of them holds at the end of the day.
  const candidates = [target - 86_400_000, target + 86_400_000]
    .map((probe) => target - zoneOffsetMs(new Date(probe), timezone))
    .filter((t) => localDate(new Date(t), timezone) === next)
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first === undefined) return new Date(target - zoneOffsetMs(new Date(target), timezone));
  // A skipped midnight: step back to the first instant of the next day (the skip itself).
  let t = first;
  while (localDate(new Date(t - 60_000), timezone) === next) t -= 60_000;
  return new Date(t);
}

/** The zone's UTC offset at an instant (local wall time − UTC), in ms. */
function zoneOffsetMs(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(at.getTime() / 1000) * 1000;
}

/** Once decided: whether what the decision set off is done (then the case closes), and the status it has. */
export function closedWhen(kind: DecisionKind, steps: Partial<Record<StepName, StepStatus>>): { closed: boolean; status?: CaseStatus } {
  const closed = CLOSING_STEPS[kind].every((s) => steps[s] === 'done');
  if (kind === 'exit_confirmed') return steps.revokeAccess === 'done' ? { closed, status: 'exited' } : { closed: false };
  return { closed };
}

/** Which service performs each step; the timeline names it. */
export const STEP_SERVICE: Record<StepName, 'notification' | 'hr' | 'access'> = {
  notifyManager: 'notification',
  scheduleInterview: 'hr',
  suspendAccess: 'access',
  announceDecision: 'notification',
  restoreAccess: 'access',
  cancelInterview: 'hr',
  revokeAccess: 'access',
};

// Building an Intl.DateTimeFormat costs far more than using one (measured: ~1 % of EMS's CPU per case):
// one per zone, kept (a few hundred zones exist).
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayFormat(timezone: string): Intl.DateTimeFormat {
  let f = dayFormats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    if (dayFormats.size < 1000) dayFormats.set(timezone, f);
  }
  return f;
}

/** The calendar day of an instant in a time zone, as 'YYYY-MM-DD'. */
export function localDate(at: Date, timezone: string): string {
  const parts = dayFormat(timezone).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Without an explicit last working day, the notice period runs from the employee's local today and
 * ends on a working day of theirs: a day off moves back to the working day before it (never before
 * today; with no working day in between, forward to the next one).
 */
export function defaultLastWorkingDay(submittedAt: Date, timezone: string, noticeDays: number, workingDays: readonly number[]): string {
  const today = localDate(submittedAt, timezone);
  const end = addDays(today, noticeDays);
  if (!workingDays.length) return end; // refused by notWorkingDayProblem, with the reason
  for (let day = end; day >= today; day = addDays(day, -1)) if (workingDays.includes(isoWeekday(day))) return day;
  let day = addDays(end, 1);
  while (!workingDays.includes(isoWeekday(day))) day = addDays(day, 1);
  return day;
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

/** ISO weekday of a 'YYYY-MM-DD' date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  return ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

/** A person's working days as people write them: 'Mon–Fri', 'Mon, Wed, Fri', 'Mon–Wed, Fri–Sat'. */
export function describeWorkingDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  if (!sorted.length) return 'no days';
  const short = (d: number) => WEEKDAYS[d - 1]!.slice(0, 3);
  const runs: Array<[number, number]> = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && d === last[1] + 1) last[1] = d;
    else runs.push([d, d]);
  }
  return runs.map(([a, b]) => (a === b ? short(a) : b === a + 1 ? `${short(a)}, ${short(b)}` : `${short(a)}–${short(b)}`)).join(', ');
}

/**
 * A last working day must be a working day in the employee's own calendar (their working days; the
 * date is theirs, in their zone). Public holidays are not known to the directory, so not checked.
 */
export function notWorkingDayProblem(day: string, employee: { id: string; workingDays: readonly number[] }): string | null {
  const weekday = isoWeekday(day);
  if (employee.workingDays.includes(weekday)) return null;
  return `${day} is a ${WEEKDAYS[weekday - 1]}, not a working day for ${employee.id} (works ${describeWorkingDays(employee.workingDays)})`;
}

/** A last working day is refused when it lies in the employee's past or absurdly far ahead. */
export function lastWorkingDayProblem(lastWorkingDay: string, submittedAt: Date, timezone: string): string | null {
  const today = localDate(submittedAt, timezone);
  if (lastWorkingDay < today) return `lastWorkingDay ${lastWorkingDay} is in the past (today is ${today} in ${timezone})`;
  if (lastWorkingDay > addDays(today, 366)) return `lastWorkingDay ${lastWorkingDay} is more than a year ahead`;
  return null;
}

/** The case status implied by its steps once the reactions have run. */
export function statusAfterReactions(steps: Record<ReactionStep, StepStatus>): CaseStatus {
  const values = STEP_NAMES.map((s) => steps[s]);
  if (values.some((v) => v === 'pending' || v === 'late')) return 'in_progress';
  if (values.includes('failed')) return 'action_required';
  if (values.every((v) => v === 'done')) return 'awaiting_decision';
  return 'in_progress';
}
