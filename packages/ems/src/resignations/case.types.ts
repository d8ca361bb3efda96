import type { Kysely } from 'kysely';
import type { Actor } from '@ems/platform';
import type { ems } from '@ems/contracts';
import type { CaseStatus, DecisionKind } from '../domain/resignation.ts';
import type { EmsDb } from '../db/types.ts';

/** Everything known about a case when it is opened; the orchestrator acts on this snapshot. */
export interface CaseDraft {
  id: string;
  employee: { id: string; name: string; email: string; timezone: string };
  manager: { id: string; name: string; email: string } | null;
  hrPartnerId: string;
  lastWorkingDay: string;
  reason: string | null;
  /** Absent in drafts of workflows begun before categories existed. */
  reasonCategory?: ems.ReasonCategory | null | undefined;
  /** The employee's department at submission (absent in older drafts). */
  department?: string | null | undefined;
  mode: 'orchestration' | 'choreography';
  correlationId: string;
  /** W3C trace context the submission arrived with, continued by every event of the case. */
  traceparent: string | null;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
  submittedAt: string;
  /** Who submitted it (recorded on the timeline). */
  submittedBy?: Actor | null | undefined;
}

export interface DecisionInput {
  kind: DecisionKind;
  lastWorkingDay?: string | undefined;
  note?: string | undefined;
  /** Who decided (or withdrew), recorded on the timeline and carried by the decision's event. */
  actor?: Actor | null | undefined;
}

export interface CaseFacts {
  draft: CaseDraft;
  status: CaseStatus;
  /** `involuntary`: HR's exit, decided from the start — no decision or withdrawal applies. */
  kind: 'resignation' | 'involuntary';
  holdId: string | null;
  /** The interview booked by the scheduling step, if it succeeded. */
  interview: { id: string; end: string } | null;
  decision: { kind: DecisionKind; revision: number; lastWorkingDay: string | null; revokeAt: string | null; note: string | null; decidedBy: Actor | null } | null;
}

export type DecideOutcome =
  | { outcome: 'applied'; revision: number }
  | { outcome: 'unchanged' }
  | { outcome: 'illegal'; detail: string }
  | { outcome: 'not-found' };

/**
 * `existing`: this very case was opened before (a retried write, or a concurrent request with the same key).
 * `draft`: what the case was opened from (an intake's, once read).
 */
export type OpenOutcome =
  | { outcome: 'created'; id: string; draft: CaseDraft; /** The case as its opening transaction wrote it. */ resignation?: ems.Resignation }
  | { outcome: 'existing'; id: string; draft: CaseDraft }
  | { outcome: 'conflict'; existingId: string };

/**
 * What a case is opened from: its draft, or the reads that make it, run first in the transaction that opens it (a
 * submission's directory read was a transaction of its own before it: one commit per case). Throwing refuses the
 * case: nothing is written.
 */
export type CaseIntake = CaseDraft | ((trx: Kysely<EmsDb>) => Promise<CaseDraft>);

export interface TimelineInput {
  service: string;
  type: string;
  summary: string;
  detail?: Record<string, unknown>;
  /** Makes a retried writer's entry appear once. */
  dedupeKey: string;
  at?: Date;
  /** A person's change: who, in which role, through which client. Absent: the service's own reaction. */
  actor?: Actor | null | undefined;
}

export type TimelineEntry = ems.TimelineEntry;
