import { sql } from 'kysely';
import type { hr } from '@ems/contracts';
import type { Logger } from '@ems/platform';
import type { Decision, HrTx } from '../db/hr.db.ts';
import type { Invite } from '../domain/calendar-invite.ts';
import type { InviteNotSent } from '@ems/contracts/events';
import { FAST_PATH_RESERVATION_MS, invitesNotSent, outboxRows, queuedEmails, type QueuedEmail } from '../deliver-invites/outbox.ts';
import type { IdempotencyKey } from '../interviews/idempotency.ts';
import type { InterviewRow } from '../interviews/interview.view.ts';

/**
 * The booking's statements: three round trips between BEGIN and COMMIT (lock, read, write) where it took twelve.
 *
 *   1. lockForBooking    the resignation (advisory), then the employee's HR partner (row lock)
 *   2. readBookingFacts  after both locks, one snapshot: a repeat (by key or resignation), the decision,
 *                        the employee, the partner, their weekly busy hours and booked interviews
 *   3. insertBooking     the interview, the Idempotency-Key and the two invites in one INSERT … RETURNING
 *
 * The reads are a statement of their own because READ COMMITTED takes a statement's snapshot when it
 * starts: reads in the statement that waited for a lock would miss what the lock's holder committed.
 */

/**
 * Takes the resignation's lock, then its employee's HR partner's row lock — the order every booking and
 * closing takes them (closing takes only the first) — and returns the partner locked. The advisory lock
 * is in the statement's target list, which PostgreSQL computes before the row lock above it is taken.
 * No row (unknown employee) → nothing is locked and undefined is returned: the caller then takes the
 * resignation's lock alone (lockResignation), and can only refuse.
 */
export async function lockForBooking(trx: HrTx, resignationId: string, employeeId: string): Promise<string | undefined> {
  const r = await sql<{ id: string }>`
    SELECT p.id, pg_advisory_xact_lock(hashtext('hr.resignation'), hashtext(${resignationId})) AS locked
      FROM hr.employees e JOIN hr.hr_partners p ON p.id = e.hr_partner_id
     WHERE e.id = ${employeeId}
       FOR UPDATE OF p`.execute(trx);
  return r.rows[0]?.id;
}

export interface BookingFacts {
  /** The Idempotency-Key's record, when the key was used before. */
  key: { operation: string; fingerprint: string } | undefined;
  /** The interview the key acted on, or else the resignation's interview. */
  existing: InterviewRow | undefined;
  decision: Decision | null;
  employee: { id: string; name: string; email: string; status: 'active' | 'left'; timezone: string; work_days: number[]; work_start: string; work_end: string; hr_partner_id: string } | undefined;
  partner: { id: string; name: string; email: string; timezone: string; work_days: number[]; work_start: string; work_end: string } | undefined;
  busy: { weekday: number; start: string; end: string }[];
  booked: { start: Date; end: Date }[];
}

const DAY_MS = 86_400_000;

/** Everything the booking decides on, in one statement (see above); `partnerId` is the partner locked. */
export async function readBookingFacts(
  trx: HrTx,
  request: hr.ScheduleInterviewRequest,
  key: IdempotencyKey | undefined,
  partnerId: string | undefined,
  now: Date,
): Promise<BookingFacts> {
  // The search never goes past the last working day; a day of margin either side covers every zone offset.
  const until = new Date(Date.parse(`${request.lastWorkingDay}T00:00:00Z`) + 2 * DAY_MS);
  const r = await sql<{
    key_operation: string | null;
    key_fingerprint: string | null;
    existing: Record<string, unknown> | null;
    decision: Decision | null;
    employee: BookingFacts['employee'] | null;
    partner: BookingFacts['partner'] | null;
    busy: [number, string, string][];
    booked: [string, string][];
  }>`
    SELECT k.operation AS key_operation, k.fingerprint AS key_fingerprint,
           to_jsonb(i) AS existing,
           c.decision,
           CASE WHEN e.id IS NOT NULL THEN jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'status', e.status, 'timezone', e.timezone,
             'work_days', e.work_days, 'work_start', e.work_start, 'work_end', e.work_end, 'hr_partner_id', e.hr_partner_id) END AS employee,
           CASE WHEN p.id IS NOT NULL THEN jsonb_build_object('id', p.id, 'name', p.name, 'email', p.email, 'timezone', p.timezone,
             'work_days', p.work_days, 'work_start', p.work_start, 'work_end', p.work_end) END AS partner,
           (SELECT coalesce(jsonb_agg(jsonb_build_array(b.weekday, b.start_time, b.end_time)), '[]') FROM hr.recurring_busy b WHERE b.hr_partner_id = p.id) AS busy,
           (SELECT coalesce(jsonb_agg(jsonb_build_array(x.starts_at, x.ends_at)), '[]') FROM hr.interviews x
             WHERE x.hr_partner_id = p.id AND x.status <> 'cancelled' AND x.ends_at > ${now} AND x.starts_at < ${until}) AS booked
      FROM (SELECT 1) AS one
      LEFT JOIN hr.idempotency_keys k ON k.key = ${key?.key ?? null}
      LEFT JOIN hr.interviews i ON i.id = coalesce(k.interview_id, (SELECT r.id FROM hr.interviews r WHERE r.resignation_id = ${request.resignationId}))
      LEFT JOIN hr.exit_cases c ON c.resignation_id = ${request.resignationId}
      LEFT JOIN hr.employees e ON e.id = ${request.employeeId}
      LEFT JOIN hr.hr_partners p ON p.id = ${partnerId ?? null}`.execute(trx);
  const row = r.rows[0]!;
  return {
    key: row.key_operation !== null && row.key_fingerprint !== null ? { operation: row.key_operation, fingerprint: row.key_fingerprint } : undefined,
    existing: row.existing ? interviewFromJson(row.existing) : undefined,
    decision: row.decision,
    employee: row.employee ?? undefined,
    partner: row.partner ?? undefined,
    busy: row.busy.map(([weekday, start, end]) => ({ weekday, start, end })),
    booked: row.booked.map(([start, end]) => ({ start: new Date(start), end: new Date(end) })),
  };
}

/** An interviews row read as JSON (to_jsonb): the same values as a row read as columns. */
function interviewFromJson(j: Record<string, unknown>): InterviewRow {
  const date = (v: unknown) => new Date(String(v));
  return {
    id: String(j.id),
    resignation_id: String(j.resignation_id),
    employee_id: String(j.employee_id),
    hr_partner_id: String(j.hr_partner_id),
    starts_at: date(j.starts_at),
    ends_at: date(j.ends_at),
    timezone: String(j.timezone),
    last_working_day: String(j.last_working_day),
    status: j.status as InterviewRow['status'],
    sequence: Number(j.sequence),
    uid: String(j.uid),
    held_at: j.held_at === null || j.held_at === undefined ? null : date(j.held_at),
    notes: typeof j.notes === 'string' ? j.notes : null,
    created_at: date(j.created_at),
    updated_at: date(j.updated_at),
  };
}

/**
 * Writes the booking in one statement: the interview, the Idempotency-Key (when given) and the invites,
 * RETURNING the interview as stored and the invites queued (one Notification would refuse is stored failed, not
 * queued: see outboxRows). A twin that got in first fails it on a unique key, a double booking on the exclusion
 * constraint: the caller maps both.
 */
export async function insertBooking(
  trx: HrTx,
  interview: Omit<InterviewRow, 'status' | 'sequence' | 'held_at' | 'notes'>,
  key: IdempotencyKey | undefined,
  invites: readonly Invite[],
  log: Logger,
): Promise<{ row: InterviewRow; queued: QueuedEmail[]; notSent: InviteNotSent[] }> {
  const reservedUntil = Date.now() + FAST_PATH_RESERVATION_MS;
  const rows = outboxRows(interview.id, invites, log);
  const i = interview;
  const r = await sql<InterviewRow & { queued: { id: number; purpose: string; recipient: string }[] }>`
    WITH booked AS (
      INSERT INTO hr.interviews (id, resignation_id, employee_id, hr_partner_id, starts_at, ends_at, timezone, last_working_day, uid, created_at, updated_at)
      VALUES (${i.id}, ${i.resignation_id}, ${i.employee_id}, ${i.hr_partner_id}, ${i.starts_at}, ${i.ends_at}, ${i.timezone}, ${i.last_working_day}, ${i.uid}, ${i.created_at}, ${i.updated_at})
      RETURNING *
    ), remembered AS (
      INSERT INTO hr.idempotency_keys (key, operation, fingerprint, interview_id, created_at)
      SELECT ${key?.key ?? null}, ${key?.operation ?? null}, ${key?.fingerprint ?? null}, booked.id, ${i.created_at} FROM booked WHERE ${key !== undefined}
    ), queued AS (
      INSERT INTO hr.outbox (interview_id, purpose, recipient, invitee, request, next_attempt_at, attempts, status, last_error, not_sent)
      SELECT booked.id, x.purpose, x.recipient, x.invitee, x.request, now() + ${FAST_PATH_RESERVATION_MS} * interval '1 millisecond', x.attempts, x.status, x.last_error, x.not_sent
        FROM booked,
             ROWS FROM (jsonb_to_recordset(${JSON.stringify(
               rows.map((x) => ({ purpose: x.purpose, recipient: x.recipient, invitee: x.invitee, request: x.body, attempts: x.attempts, status: x.status, last_error: x.last_error, not_sent: x.not_sent })),
             )}::jsonb) AS (purpose text, recipient text, invitee text, request jsonb, attempts int, status text, last_error text, not_sent text))
             WITH ORDINALITY AS x(purpose, recipient, invitee, request, attempts, status, last_error, not_sent, n)
       ORDER BY x.n
      ON CONFLICT (purpose, recipient) DO NOTHING
      RETURNING id, purpose, recipient
    )
    SELECT booked.*, (SELECT coalesce(jsonb_agg(jsonb_build_object('id', q.id, 'purpose', q.purpose, 'recipient', q.recipient) ORDER BY q.id), '[]') FROM queued q) AS queued
      FROM booked`.execute(trx);
  const { queued, ...row } = r.rows[0]!;
  return { row, queued: queuedEmails(rows, queued, reservedUntil), notSent: invitesNotSent(rows) };
}
