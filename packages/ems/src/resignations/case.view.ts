/** A case's rows as the contracts show them (and as the orchestrator's snapshot): whitelisted mappers, no queries. */
import type { Selectable } from 'kysely';
import type { ems } from '@ems/contracts';
import type { ResignationRow, StepRow, TimelineRow } from '../db/types.ts';
import type { StepName } from '../domain/resignation.ts';
import type { CaseDraft, TimelineEntry } from './case.types.ts';

export function iso(v: Date | string | null): string | null {
  return v === null ? null : new Date(v).toISOString();
}

/**
 * The manager the case's next messages go to: the one the directory named since submission, when the
 * roster knows how to reach them (else the submission's); none when the directory took the manager away.
 */
function managerInForce(row: Selectable<ResignationRow>): CaseDraft['manager'] {
  const now = row.responsible?.manager;
  if (row.responsible && now === null) return null;
  if (now?.name && now.email) return { id: now.id, name: now.name, email: now.email };
  return row.manager_id && row.manager_name && row.manager_email ? { id: row.manager_id, name: row.manager_name, email: row.manager_email } : null;
}

export function draftFromRow(row: Selectable<ResignationRow>): CaseDraft {
  return {
    id: row.id,
    employee: { id: row.employee_id, name: row.employee_name, email: row.employee_email, timezone: row.employee_timezone },
    manager: managerInForce(row),
    hrPartnerId: row.hr_partner_id,
    lastWorkingDay: row.last_working_day,
    reason: row.reason,
    reasonCategory: row.reason_category,
    department: row.department,
    mode: row.mode,
    correlationId: row.correlation_id,
    traceparent: row.traceparent,
    idempotencyKey: row.idempotency_key,
    requestFingerprint: row.request_fingerprint,
    submittedAt: iso(row.submitted_at)!,
  };
}

export function toResignation(row: Selectable<ResignationRow>, steps: readonly Selectable<StepRow>[], connected: { systems: ems.CaseSystem[]; drifts: ems.CaseDrift[] } | undefined): ems.Resignation {
  const step = (name: StepName) => {
    const s = steps.find((x) => x.name === name);
    return { status: s?.status ?? 'pending', at: iso(s?.at ?? null), expectedBy: iso(s?.expected_by ?? null), attempts: s?.attempts ?? 0, lastError: s?.last_error ?? null };
  };
  const has = (name: StepName) => steps.some((x) => x.name === name);
  const optional = Object.fromEntries((['announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'] as const).filter(has).map((n) => [n, step(n)]));
  return {
    id: row.id,
    employeeId: row.employee_id,
    employeeName: row.employee_name,
    // The last working day in force: an exit confirmed with another day moved it.
    lastWorkingDay: row.decision === 'exit_confirmed' && row.decided_last_working_day ? row.decided_last_working_day : row.last_working_day,
    reason: row.reason,
    reasonCategory: row.reason_category,
    department: row.department,
    status: row.status,
    mode: row.mode,
    kind: row.kind,
    batchId: row.batch_id,
    correlationId: row.correlation_id,
    submittedAt: iso(row.submitted_at)!,
    updatedAt: iso(row.updated_at)!,
    closedAt: iso(row.closed_at),
    decision: row.decision
      ? {
          decision: row.decision,
          decidedAt: iso(row.decided_at)!,
          note: row.decision_note,
          lastWorkingDay: row.decided_last_working_day,
          revokeAt: iso(row.revoke_at),
          revision: row.decision_revision,
          decidedBy: row.decided_by,
        }
      : null,
    // An involuntary case has no resignation notice and no interview: its steps are suspendAccess, announceDecision, revokeAccess.
    steps: { ...(row.kind === 'involuntary' ? {} : { notifyManager: step('notifyManager'), scheduleInterview: step('scheduleInterview') }), suspendAccess: step('suspendAccess'), ...optional },
    systems: connected?.systems ?? [],
    drifts: connected?.drifts ?? [],
    responsible: responsibleOf(row),
  };
}

/** Who is responsible now (the directory's latest word on an open case), beside the submission's. */
export function responsibleOf(row: Selectable<ResignationRow>): ems.Responsible {
  const atSubmission = { manager: row.manager_id ? { id: row.manager_id, name: row.manager_name } : null, hrPartner: { id: row.hr_partner_id, name: null } };
  const r = row.responsible;
  if (!r) return { ...atSubmission, changedAt: null, atSubmission };
  return {
    manager: r.manager && { id: r.manager.id, name: r.manager.name },
    hrPartner: r.hrPartner && { id: r.hrPartner.id, name: r.hrPartner.name },
    changedAt: new Date(r.changedAt).toISOString(),
    atSubmission,
  };
}

export function toTimelineEntry(row: Selectable<TimelineRow>): TimelineEntry {
  // A service's own reaction: the service is the actor, through its reaction (a workflow step or an event).
  const actor = row.actor ?? { id: row.service, kind: 'service' as const, name: null, role: 'service', client: row.service };
  return { at: iso(row.at)!, service: row.service, type: row.type, summary: row.summary, correlationId: row.correlation_id, detail: row.detail, actor };
}
