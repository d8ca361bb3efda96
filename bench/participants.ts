import { randomUUID } from 'node:crypto';
import { access, hr, notification } from '@ems/contracts';
import type { DemoOrg } from '@ems/demo-org';
import pg from 'pg';

/** The workflow's three participant calls. */
export type ParticipantCall = 'notice' | 'interview' | 'hold';
export const PARTICIPANT_CALLS: readonly ParticipantCall[] = ['notice', 'interview', 'hold'];

/**
 * Ceiling 3, orchestration only: the participants' own work. Per case, the three calls the resignation
 * workflow makes — the manager notice (waiting for its delivery, as the workflow does), the exit
 * interview, the access hold — sent straight from the load generator to Notification, HR and Access
 * in the EMS process, in parallel, with no case, no timeline and no workflow. Orchestration can never
 * be faster than this: its cases/s ÷ this rate is what its own bookkeeping and DBOS leave of it, and
 * this rate ÷ the bare DBOS rate is the most orchestration's ratio to bare DBOS could ever reach here.
 * (Generous to orchestration: the HTTP client's CPU is the load generator's here, EMS's there.)
 * Run with one call kind alone, it tells what that call costs.
 */
export interface ParticipantsCeiling {
  /** Which of the three calls each case made (all three for the ceiling; one, to see what each costs). */
  calls: ParticipantCall[];
  cases: number;
  concurrency: number;
  durationMs: number;
  casesPerSecond: number;
  /** Calls that ended without the participant's effect (must be 0). */
  errors: number;
  errorSamples: string[];
}

const EMAIL_WAIT_S = 20;

/** ISO date `days` from now (UTC): a last working day inside every zone's future. */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/**
 * The participants act only for a case EMS knows (they ask it): one case per employee, written straight into
 * EMS's table before the measurement — awaiting a decision, in choreography's bookkeeping, with no step and no
 * event, so nothing in EMS acts on it. Each call's first question to EMS about its case is part of its cost.
 */
export async function openInertCases(dbUrl: string, org: DemoOrg, employeeIds: readonly string[]): Promise<Map<string, string>> {
  const byId = new Map(org.employees.map((e) => [e.id, e]));
  const cases = new Map(employeeIds.map((id) => [id, randomUUID()]));
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const rows = employeeIds.map((id) => {
      const e = byId.get(id)!;
      const m = e.managerId ? byId.get(e.managerId) : undefined;
      return [cases.get(id), e.id, e.name, e.email, e.timezone, m?.id ?? null, m?.name ?? null, m?.email ?? null, e.hrPartnerId, inDays(28), cases.get(id)];
    });
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const values = batch.map((_, r) => `(${Array.from({ length: 11 }, (_, c) => `$${r * 11 + c + 1}`).join(', ')}, 'awaiting_decision', 'choreography', now(), now())`).join(', ');
      await client.query(
        `INSERT INTO ems.resignations (id, employee_id, employee_name, employee_email, employee_timezone, manager_id, manager_name, manager_email, hr_partner_id, last_working_day, correlation_id, status, mode, submitted_at, updated_at) VALUES ${values}`,
        batch.flat(),
      );
    }
  } finally {
    await client.end();
  }
  return cases;
}

export async function participantsCeiling(
  base: string,
  /** The case of each employee (openInertCases). */
  cases: ReadonlyMap<string, string>,
  /** The orchestrator's credentials for a participant (bench/auth.ts). */
  auth: (target: 'notification' | 'hr' | 'access') => Promise<Record<string, string>>,
  org: DemoOrg,
  employeeIds: readonly string[],
  concurrency: number,
  calls: readonly ParticipantCall[] = PARTICIPANT_CALLS,
  signal?: AbortSignal,
): Promise<ParticipantsCeiling> {
  const byId = new Map(org.employees.map((e) => [e.id, e]));
  const lastWorkingDay = inDays(28);
  const errorSamples: string[] = [];
  let errors = 0;
  const fail = (what: string) => {
    errors++;
    if (errorSamples.length < 3) errorSamples.push(what);
  };

  const post = async (target: 'notification' | 'hr' | 'access', path: string, body: unknown, key: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(await auth(target)), ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout((EMAIL_WAIT_S + 10) * 1000),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  };

  const oneCase = async (employeeId: string) => {
    const employee = byId.get(employeeId);
    const manager = employee?.managerId ? byId.get(employee.managerId) : undefined;
    if (!employee || !manager) throw new Error(`bench organisation: ${employeeId} or its manager is missing`);
    const resignationId = cases.get(employeeId);
    if (!resignationId) throw new Error(`bench: no case opened for ${employeeId}`);
    const notice: notification.SendEmailRequest = {
      resignationId,
      purpose: 'manager-notice',
      to: { email: manager.email, name: manager.name },
      template: 'resignation-manager-notice',
      data: { managerName: manager.name, employeeName: employee.name, employeeId, lastWorkingDay, reason: null },
      attachments: [],
    };
    const made: Record<ParticipantCall, () => Promise<void>> = {
      notice: async () => {
        // Until delivered, as the workflow's step does (same key: a repeat waits for the same email).
        for (let attempt = 1; attempt <= 5; attempt++) {
          const r = await post('notification', notification.NotificationPaths.emails, notice, `${resignationId}:notifyManager`, { prefer: `wait=${EMAIL_WAIT_S}` });
          const status = (r.json as { status?: string } | undefined)?.status;
          if ((r.status === 200 || r.status === 201) && status === 'sent') return;
          if (r.status >= 400 || status === 'failed') return fail(`email for ${employeeId}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
        }
        fail(`email for ${employeeId}: not delivered after 5 waits`);
      },
      interview: async () => {
        const body: hr.ScheduleInterviewRequest = { resignationId, employeeId, lastWorkingDay };
        const r = await post('hr', hr.HrPaths.interviews, body, `${resignationId}:scheduleInterview`);
        if (r.status !== 201) fail(`interview for ${employeeId}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
      },
      hold: async () => {
        const body: access.SuspendAccessRequest = { resignationId, employeeId, reason: 'resignation submitted' };
        const r = await post('access', access.AccessPaths.holds, body, `${resignationId}:suspendAccess`);
        if (r.status !== 201) fail(`hold for ${employeeId}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
      },
    };
    const settled = await Promise.allSettled(calls.map((c) => made[c]()));
    for (const s of settled) if (s.status === 'rejected') fail(`${employeeId}: ${String(s.reason).slice(0, 200)}`);
  };

  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, employeeIds.length) }, async () => {
      while (next < employeeIds.length) {
        signal?.throwIfAborted();
        await oneCase(employeeIds[next++]!);
      }
    }),
  );
  const durationMs = performance.now() - t0;
  return { calls: [...calls], cases: employeeIds.length, concurrency, durationMs, casesPerSecond: (employeeIds.length * 1000) / durationMs, errors, errorSamples };
}
