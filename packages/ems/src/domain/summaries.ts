/**
 * Every sentence a case's timeline shows, defined once. Both modes word an outcome through these: the
 * orchestrator's steps (orchestration/) and the record of reported events (resignations/record-reported.ts),
 * so the same outcome reads the same whichever mode a case ran in (test/timeline-wording.test.ts); the
 * exits' sentences too (exits/record-exit-outcomes.ts and exit-batch.store.ts, both modes).
 */

import type { DecisionKind } from './resignation.ts';

/** One formatter per time zone: building one costs ~1 ms (ICU's zone data), formatting with it ~7 µs. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** e.g. 'Thu 26 Nov 2026, 09:30' in the given zone. */
export function localTime(iso: string, timezone: string): string {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, format);
  }
  return format.format(new Date(iso));
}

/** An invite HR did not send (the contracts' InviteNotSent, as the timeline needs it). */
interface InviteNotSent {
  to: 'employee' | 'hrPartner';
  reason: string;
}

/** What a follow-up was about, in words. */
function followUpWhat(milestone: string): string {
  return milestone === 'interview_scheduled' ? 'interview not scheduled' : milestone === 'interview_held' ? 'interview not held' : 'no decision';
}

export const summaries = {
  submitted: (employee: string, lastWorkingDay: string) => `${employee} resigned; last working day ${lastWorkingDay}`,
  /** `note`: HR's words, kept at the end after ' — ' (a summary view cuts them off there: views.ts). */
  decision: (employee: string, kind: DecisionKind, lastWorkingDay: string | null, moved: boolean, note: string | null) => {
    const why = note ? ` — ${note}` : '';
    if (kind === 'retained') return `Decision: ${employee} is retained; the resignation is off${why}`;
    if (kind === 'withdrawn') return `${employee} withdrew the resignation${why}`;
    return moved ? `Last working day moved to ${lastWorkingDay}${why}` : `Decision: exit confirmed, last working day ${lastWorkingDay}${why}`;
  },
  managerNotified: (manager: string) => `Manager ${manager} notified by email`,
  noManager: (employee: string) => `${employee} has no manager; nobody to notify`,
  /** `notSent`: the invites HR could not send (Notification would refuse them, e.g. the address), with HR's reason. */
  interviewScheduled: (start: string, timezone: string, notSent: readonly InviteNotSent[] = []) =>
    `Exit interview booked for ${localTime(start, timezone)} (${timezone})${notSent.map((n) => `; the ${n.to === 'employee' ? "employee's" : "HR partner's"} invite was not sent: ${n.reason}`).join('')}`,
  interviewHeld: () => 'Exit interview held',
  interviewCancelled: () => 'Exit interview cancelled; cancellations sent',
  /** `why`: the skip reason the participant gave (e.g. none was booked). */
  noInterviewToCancel: (why: string) => `No interview to cancel (${why})`,
  accessSuspended: (systems: readonly string[]) => (systems.length ? `Critical access suspended: ${systems.join(', ')}` : 'No critical access to suspend'),
  /** People by name (the case's snapshot), never by address: the reader needs to know who, not where. */
  decisionAnnounced: (decision: string, people: readonly string[]) => `Decision (${decision}) announced to ${people.join(' and ')}`,
  accessRestored: (restored: readonly string[], leftAsTheyAre: readonly string[] = []) =>
    `${restored.length ? `Access restored: ${restored.join(', ')}` : 'No suspended access to restore'}${leftAsTheyAre.length ? ` (left as they are: ${leftAsTheyAre.join(', ')})` : ''}`,
  revocationScheduled: (revokeAt: string, timezone: string) => `Access will be revoked at ${localTime(revokeAt, timezone)} (${timezone}), the end of the last working day`,
  accessRevoked: (revoked: readonly string[]) => (revoked.length ? `All access revoked: ${revoked.join(', ')}` : 'No access left to revoke'),
  followUp: (f: { milestone: string; level: string; to: string }) =>
    f.level === 'reminder' ? `Reminder sent to ${f.to}: ${followUpWhat(f.milestone)} by its deadline` : `Escalated to ${f.to}: ${followUpWhat(f.milestone)}, reminder unanswered`,
  /** A follow-up HR recorded without an email (`why`: HR's reason — nobody to send it to, or Notification refused it), in both modes. */
  followUpSkipped: (f: { milestone: string; level: string; why: string }) => `${f.level === 'reminder' ? 'Reminder' : 'Escalation'} not sent (${followUpWhat(f.milestone)}): ${f.why}`,
  /** 'assets', 'com.ems.assets.recovery-task-opened.v1' → 'Assets: recovery task opened' */
  eventInWords: (service: string, type: string) => {
    const name = type.replace(/\.v\d+$/, '').split('.').pop() ?? type;
    return `${service.charAt(0).toUpperCase()}${service.slice(1)}: ${name.replace(/[-_]+/g, ' ')}`;
  },
  /** A reaction given up on: the participant's reason, in both modes (the attempts are in the entry's detail). */
  stepFailed: (step: string, reason: string) => `${step} failed: ${reason}`,
  /** Orchestration only: a call that failed and will be made again. */
  attemptFailed: (step: string, attempt: number, error: string) => `${step}: attempt ${attempt} failed (${error}); retrying`,
  stepLate: (step: string, expectedBy: string) => `${step}: no reaction by ${expectedBy}; the step is late`,
  reactionsSettled: (allDone: boolean) => (allDone ? 'All three reactions done; awaiting the decision' : 'A reaction failed; the case needs attention'),
  exited: (employee: string) => `${employee} has left: every grant revoked`,
  closed: (status: string) => `Case closed (${status})`,

  // Involuntary and mass exits (exits/): the same sentences in both modes.
  /** `by`: the HR lead's name; `reason`: the exit reason's code (e.g. 'end_of_contract'). */
  exitStarted: (by: string, reason: string, revokeAt: string) =>
    `Involuntary exit started by ${by} (${reason.replaceAll('_', ' ')}): every grant to be suspended now, manager and employee told after, all access revoked at ${revokeAt}`,
  exitAccessSuspended: (grants: number, revokeAt: string) => `Access suspended every grant (${grants} grant${grants === 1 ? '' : 's'}); all access to be revoked at ${revokeAt}`,
  exitAccessSuspensionFailed: (reason: string) => `Access could not suspend the grants: ${reason}; manager and employee not told`,
  exitNoticesSent: (told: { managerTold: boolean; employeeTold: boolean }) =>
    told.managerTold && told.employeeTold
      ? 'Manager and employee told of the exit (after access was suspended)'
      : told.employeeTold
        ? 'Employee told of the exit (after access was suspended); no manager to tell'
        : told.managerTold
          ? 'Manager told of the exit (after access was suspended); the employee could not be told'
          : 'Nobody to tell of the exit',
  exitNoticesFailed: (reason: string) => `Manager and employee could not be told: ${reason}`,
  /** Orchestration's record of an involuntary case's accessRevoked (choreography's tracker words it as accessRevoked). */
  exitRevoked: (grants: number) => `Access revoked every remaining grant (${grants})`,
};
