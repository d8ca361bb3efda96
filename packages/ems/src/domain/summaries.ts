/** The sentences the timeline shows for each reaction, the same whichever mode reported it. */

/** e.g. 'Thu 26 Nov 2026, 09:30' in the given zone. */
export function localTime(iso: string, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

export const summaries = {
  managerNotified: (manager: string) => `Manager ${manager} notified by email`,
  noManager: (employee: string) => `${employee} has no manager; nobody to notify`,
  interviewScheduled: (start: string, timezone: string) => `Exit interview booked for ${localTime(start, timezone)} (${timezone})`,
  accessSuspended: (systems: readonly string[]) => (systems.length ? `Critical access suspended: ${systems.join(', ')}` : 'No critical access to suspend'),
  /** People by name (the case's snapshot), never by address: the reader needs to know who, not where. */
  decisionAnnounced: (decision: string, people: readonly string[]) => `Decision (${decision}) announced to ${people.join(' and ')}`,
  accessRestored: (restored: readonly string[], leftAsTheyAre: readonly string[] = []) =>
    `${restored.length ? `Access restored: ${restored.join(', ')}` : 'No suspended access to restore'}${leftAsTheyAre.length ? ` (left as they are: ${leftAsTheyAre.join(', ')})` : ''}`,
  /** 'assets', 'com.ems.assets.recovery-task-opened.v1' → 'Assets: recovery task opened' */
  eventInWords: (service: string, type: string) => {
    const name = type.replace(/\.v\d+$/, '').split('.').pop() ?? type;
    return `${service.charAt(0).toUpperCase()}${service.slice(1)}: ${name.replace(/[-_]+/g, ' ')}`;
  },
  /** A reaction given up on: the participant's reason, in both modes (the attempts are in the entry's detail). */
  stepFailed: (step: string, reason: string) => `${step} failed: ${reason}`,
  revocationScheduled: (revokeAt: string, timezone: string) => `Access will be revoked at ${localTime(revokeAt, timezone)} (${timezone}), the end of the last working day`,
};
