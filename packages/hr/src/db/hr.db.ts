import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { notification } from '@ems/contracts';
import type { DirectoryPerson } from '@ems/contracts/events';
import type { z } from 'zod';

/** The PostgreSQL schema HR owns. */
export const HR_SCHEMA = 'hr';

/** Row types of the `hr` schema (see migrations.ts), for Kysely. */

type Timestamp = ColumnType<Date, Date, Date>;
type DefaultTimestamp = ColumnType<Date, Date | undefined, Date>;
/** A nullable column that may be left out of an insert. */
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export type InterviewStatus = 'scheduled' | 'cancelled' | 'held';
export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface HrLeadsTable {
  id: string;
  name: string;
  email: string;
}

export interface HrPartnersTable {
  id: string;
  name: string;
  email: string;
  timezone: string;
  work_days: number[];
  work_start: string;
  work_end: string;
  /** The HR lead an unanswered reminder escalates to (migration 4). */
  lead_id: Nullable<string>;
  updated_at: DefaultTimestamp;
}

export interface RecurringBusyTable {
  hr_partner_id: string;
  weekday: number;
  start_time: string;
  end_time: string;
  title: string;
}

export interface DepartmentsTable {
  id: string;
  name: string;
  hr_partner_id: string;
}

export interface EmployeesTable {
  id: string;
  name: string;
  email: string;
  title: string;
  department_id: string;
  manager_id: string | null;
  hr_partner_id: string;
  timezone: string;
  location: string;
  /** ISO weekdays the employee works; their hours 'HH:mm', local to their zone. */
  work_days: ColumnType<number[], number[] | undefined, number[]>;
  work_start: ColumnType<string, string | undefined, string>;
  work_end: ColumnType<string, string | undefined, string>;
  status: Generated<'active' | 'left'>;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface InterviewsTable {
  id: string;
  resignation_id: string;
  employee_id: string;
  hr_partner_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  timezone: string;
  /** 'YYYY-MM-DD' (DATE is parsed as a string, see platform db.ts). */
  last_working_day: string;
  status: Generated<InterviewStatus>;
  sequence: Generated<number>;
  uid: string;
  /** Set when (and only when) the interview is held (migration 3). */
  held_at: Nullable<Date>;
  notes: Nullable<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdempotencyKeysTable {
  key: string;
  operation: string;
  fingerprint: string;
  interview_id: string;
  created_at: DefaultTimestamp;
}

export interface OutboxTable {
  id: Generated<number>;
  interview_id: string;
  purpose: string;
  recipient: string;
  request: ColumnType<notification.SendEmailRequest, string, string>;
  status: Generated<OutboxStatus>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string, Date | string>;
  last_error: string | null;
  created_at: DefaultTimestamp;
  sent_at: Date | null;
  /** Whom the invite is for (migration 9; NULL on a row queued before it). */
  invitee: Nullable<'employee' | 'hrPartner'>;
  /** Why the invite was never queued: Notification would refuse it (migration 9). NULL for an invite that was queued. */
  not_sent: Nullable<string>;
}

export type Decision = 'retained' | 'withdrawn' | 'exit_confirmed';

/** HR's record of a resignation heard on the bus (choreography), with its follow-up timer (migration 5). */
export interface ExitCasesTable {
  resignation_id: string;
  employee_id: Nullable<string>;
  employee_name: Nullable<string>;
  hr_partner_id: Nullable<string>;
  submitted_at: Nullable<Date>;
  correlation_id: Nullable<string>;
  traceparent: Nullable<string>;
  decision: Nullable<Decision>;
  decided_at: Nullable<Date>;
  /** Clock instant the next follow-up is due; null when none is pending. */
  follow_up_at: Nullable<Date>;
  /** Lease of the poller working on the case, in database (real) time. */
  claimed_until: Nullable<Date>;
  failures: Generated<number>;
  updated_at: DefaultTimestamp;
}

export interface FollowUpsTable {
  resignation_id: string;
  milestone: 'interview_scheduled' | 'interview_held' | 'decision';
  level: 'reminder' | 'escalation';
  due_at: Timestamp;
  recipient: string | null;
  email_id: string | null;
  skipped: string | null;
  recorded_at: Timestamp;
}

/** Written by firstDelivery() from @ems/eventbus; typed here so tests and tools can read it. */
export interface ProcessedEventsTable {
  subscriber: string;
  event_id: string;
  processed_at: DefaultTimestamp;
}

/** The last directory snapshot HR heard of per person (migration 7; personChanged). */
export interface DirectoryPeopleTable {
  id: string;
  version: number;
  person: ColumnType<z.infer<typeof DirectoryPerson>, string, string>;
  updated_at: DefaultTimestamp;
}

export interface HrDB {
  hr_leads: HrLeadsTable;
  hr_partners: HrPartnersTable;
  recurring_busy: RecurringBusyTable;
  departments: DepartmentsTable;
  employees: EmployeesTable;
  interviews: InterviewsTable;
  idempotency_keys: IdempotencyKeysTable;
  outbox: OutboxTable;
  exit_cases: ExitCasesTable;
  follow_ups: FollowUpsTable;
  processed_events: ProcessedEventsTable;
  directory_people: DirectoryPeopleTable;
}

export type HrDb = Kysely<HrDB>;
export type HrTx = Transaction<HrDB>;
