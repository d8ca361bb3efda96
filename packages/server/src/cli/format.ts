export interface Out {
  log(line: string): void;
}

const MARK: Record<string, string> = { done: '✔', failed: '✘', pending: '…', late: '⏰' };

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

export function printCase(
  out: Out,
  c: { id: string; employeeId: string; employeeName: string; status: string; lastWorkingDay: string; steps: Record<string, { status: string; at: string | null; attempts: number; lastError: string | null }> },
  timeline: Array<{ at: string; service: string; summary: string; correlationId: string }>,
  /** The case's page in the web app, for a person to open. */
  link?: string,
): void {
  out.log(`Case ${c.id}${link ? `   ${link}` : ''}`);
  out.log(`  employee: ${c.employeeName} (${c.employeeId})   last working day: ${c.lastWorkingDay}   status: ${c.status}`);
  out.log('  steps:');
  for (const [name, s] of Object.entries(c.steps)) {
    const extra = s.lastError && s.status !== 'done' ? `  (${s.lastError})` : '';
    out.log(`    ${MARK[s.status] ?? '?'} ${pad(name, 18)} ${pad(s.status, 8)} ${s.at ?? ''}${s.attempts > 1 ? `  after ${s.attempts} attempts` : ''}${extra}`);
  }
  if (timeline.length) {
    out.log(`  timeline (correlation ${timeline[0]!.correlationId}):`);
    for (const t of timeline) out.log(`    ${t.at}  ${pad(t.service, 13)} ${t.summary}`);
  }
}

export function printCases(out: Out, cases: Array<{ id: string; employeeId: string; employeeName: string; status: string; lastWorkingDay: string; steps: Record<string, { status: string }> }>): void {
  if (!cases.length) return out.log('No resignations.');
  out.log(`${pad('id', 37)}${pad('employee', 26)}${pad('last day', 12)}${pad('status', 19)}steps`);
  for (const c of cases) {
    const steps = Object.entries(c.steps).map(([n, s]) => `${MARK[s.status] ?? '?'}${n}`).join(' ');
    out.log(`${pad(c.id, 37)}${pad(`${c.employeeName} (${c.employeeId})`, 26)}${pad(c.lastWorkingDay, 12)}${pad(c.status, 19)}${steps}`);
  }
}

export function printEmails(out: Out, emails: Array<{ id: string; to: string; subject: string; status: string; messageId: string | null; sentAt: string | null; createdAt: string }>): void {
  if (!emails.length) return out.log('No emails.');
  for (const e of emails) {
    out.log(`${e.sentAt ?? e.createdAt}  ${pad(e.status, 7)} to ${e.to}`);
    out.log(`    ${e.subject}${e.messageId ? `   [${e.messageId}]` : ''}`);
  }
}

export function printDeadLetters(out: Out, items: Array<{ id: string; subscriber: string; eventId: string | null; eventType: string | null; reason: string; attempts: number; deadAt: string; replayedAt: string | null }>): void {
  if (!items.length) return out.log('No dead letters.');
  for (const d of items) {
    out.log(`${d.id}  ${d.deadAt}  ${d.subscriber}${d.replayedAt ? `  (replayed ${d.replayedAt})` : ''}`);
    out.log(`    ${d.eventType ?? '(unreadable event)'} ${d.eventId ?? ''} after ${d.attempts} attempt(s): ${d.reason}`);
  }
}
