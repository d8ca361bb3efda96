import type { ColumnType, Generated } from 'kysely';
import type { CaseStatus, DecisionKind, StepName, StepStatus } from '../domain/resignation.ts';
import type { ems } from '@ems/contracts';

type ReasonCategory = ems.ReasonCategory;

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ResignationRow {
  id: string;
  employee_id: string;
  employee_name: string;
  employee_email: string;
  employee_timezone: string;
  manager_id: string | null;
  manager_name: string | null;
  manager_email: string | null;
  hr_partner_id: string;
  last_working_day: string;
  reason: string | null;
  status: CaseStatus;
  mode: 'orchestration' | 'choreography';
  correlation_id: string;
  idempotency_key: string | null;
  /** Hash of the request an Idempotency-Key was first used with: a different body under the same key is refused. */
  request_fingerprint: string | null;
  traceparent: string | null;
  submitted_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
  decision: DecisionKind | null;
  decided_at: Timestamp | null;
  decision_note: string | null;
  decided_by: ColumnType<TimelineActor | null, string | null | undefined, string | null>;
  /** exit_confirmed: the final last working day (the submitted one stays in last_working_day). */
  decided_last_working_day: string | null;
  revoke_at: Timestamp | null;
  decision_revision: ColumnType<number, number | undefined, number>;
  reason_category: ColumnType<ReasonCategory | null, ReasonCategory | null | undefined, ReasonCategory | null>;
  department: ColumnType<string | null, string | null | undefined, string | null>;
  /** Who is responsible now, when the directory changed the manager or HR partner after submission. */
  responsible: ColumnType<Responsible | null, string | null | undefined, string | null>;
  /** `involuntary`: an exit HR started (decided from the start); `resignation` otherwise. */
  kind: ColumnType<'resignation' | 'involuntary', 'resignation' | 'involuntary' | undefined, 'resignation' | 'involuntary'>;
  /** The involuntary exit batch of the case (null for a resignation). */
  batch_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Orchestration: when EMS's sweeper started the case's decision workflow or found one with its id; its due scan skips the case from then. */
  decision_workflow_started_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** An involuntary exit batch: one person (an involuntary exit) or many (a mass exit). */
export interface ExitBatchRow {
  id: string;
  mode: 'orchestration' | 'choreography';
  reason: ems.ExitReason;
  revoke_at: Timestamp | null;
  note: string | null;
  total: number;
  chunks: number;
  idempotency_key: string;
  request_fingerprint: string;
  created_by: ColumnType<TimelineActor | null, string | null | undefined, string | null>;
  traceparent: string | null;
  created_at: Timestamp;
  settled_at: Timestamp | null;
  /** The chunks found settled (each once); the batch is settled when all are. */
  chunks_settled: ColumnType<number[], number[] | undefined, number[]>;
}

/** The manager and HR partner in force for an open case (names as the roster had them). */
export interface Responsible {
  manager: { id: string; name: string | null; email: string | null } | null;
  hrPartner: { id: string; name: string | null } | null;
  changedAt: string;
}

export interface StepRow {
  resignation_id: string;
  name: StepName;
  status: StepStatus;
  at: Timestamp | null;
  attempts: number;
  last_error: string | null;
  result: ColumnType<unknown, string | null, string | null> | null;
  expected_by: Timestamp | null;
}

export interface TimelineRow {
  id: Generated<number>;
  resignation_id: string;
  at: Timestamp;
  service: string;
  type: string;
  summary: string;
  correlation_id: string;
  detail: ColumnType<Record<string, unknown>, string, string>;
  dedupe_key: string;
  /** Who made the change (a person's request); null for a service's reaction (the `service` column says which). */
  actor: ColumnType<TimelineActor | null, string | null | undefined, string | null>;
}

export interface TimelineActor {
  id: string;
  kind: 'person' | 'service';
  name: string | null;
  role: string;
  client: string;
}

export interface EmployeeRow {
  id: string;
  name: string;
  email: string;
  timezone: string;
  manager_id: string | null;
  hr_partner_id: string | null;
  /** ISO weekdays the employee works (1 = Monday … 7 = Sunday). */
  work_days: ColumnType<number[], number[] | undefined, number[]>;
  department: ColumnType<string | null, string | null | undefined, string | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** The directory's version of the person (0: seeded); a snapshot applies only over an older one. */
  version: ColumnType<number, number | undefined, number>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface CaseSystemRow {
  resignation_id: string;
  change_id: string;
  system_id: string;
  connector: string;
  action: 'suspend' | 'restore' | 'revoke';
  status: 'done' | 'retrying' | 'failed';
  entitlements: string[];
  attempts: number;
  verification: string | null;
  error: string | null;
  retry_at: Timestamp | null;
  at: Timestamp;
}

export interface CaseDriftRow {
  drift_id: string;
  resignation_id: string;
  system_id: string;
  kind: string;
  entitlement: string | null;
  detail: string;
  detected_at: Timestamp;
}

export interface EmsDb {
  employees: EmployeeRow;
  resignations: ResignationRow;
  steps: StepRow;
  timeline: TimelineRow;
  case_systems: CaseSystemRow;
  case_drifts: CaseDriftRow;
  exit_batches: ExitBatchRow;
}
