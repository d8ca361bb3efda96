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
};
