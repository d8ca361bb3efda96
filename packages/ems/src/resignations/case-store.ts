import { sql, type Kysely, type Selectable } from 'kysely';
import type { Actor, Clock } from '@ems/platform';
import { isUniqueViolation } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { EventSources, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { createEvent, firstDelivery, type EventBus } from '@ems/eventbus';
import type { EmsDb, ResignationRow, StepRow, TimelineRow } from '../db/types.ts';
import {
  CLOSING_STEPS,
  STEP_NAMES,
  closedWhen,
  decideTransition,
  endOfDay,
  localDate,
  stepCanBecome,
  statusAfterReactions,
  type CaseStatus,
  type DecisionKind,
  type ReactionStep,
  type StepName,
  type StepStatus,
} from '../domain/resignation.ts';
import { summaries } from '../domain/summaries.ts';
import { connectedSystemsOf } from '../connected-systems/record-system-access.ts';

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

/** `existing`: this very case was opened before (a retried write, or a concurrent request with the same key). */
export type OpenOutcome = { outcome: 'created'; id: string } | { outcome: 'existing'; id: string } | { outcome: 'conflict'; existingId: string };

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

export type CaseStore = ReturnType<typeof createCaseStore>;
export type TimelineEntry = ems.TimelineEntry;

export interface CaseStoreOptions {
  /** When set, `resignation submitted` is published in the same transaction that opens the case. */
  bus?: EventBus | undefined;
  /** How long after submission a reaction may take before its step is marked late. */
  stepDeadlineSeconds: number;
  /** Orchestration: the schema of DBOS's system tables (in the same database), to find cases without a workflow. */
  workflowSchema?: string;
}

/** The subscriber name of EMS's tracker (choreography); it keys EMS's processed-event records. */
export const TRACKER = 'ems.track-reactions-when-reported';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What settling a case reads of it. */
const SETTLE_COLUMNS = ['status', 'decision', 'closed_at', 'employee_name'] as const;
type SettleRow = Pick<Selectable<ResignationRow>, (typeof SETTLE_COLUMNS)[number]>;

/** Outcome events → the step they settle. */
const OUTCOMES: Record<string, { step: StepName; status: 'done' | 'failed' }> = {
  [EventTypes.managerNotified]: { step: 'notifyManager', status: 'done' },
  [EventTypes.managerNotificationFailed]: { step: 'notifyManager', status: 'failed' },
  [EventTypes.exitInterviewScheduled]: { step: 'scheduleInterview', status: 'done' },
  [EventTypes.exitInterviewSchedulingFailed]: { step: 'scheduleInterview', status: 'failed' },
  [EventTypes.criticalAccessSuspended]: { step: 'blockAccess', status: 'done' },
  [EventTypes.criticalAccessSuspensionFailed]: { step: 'blockAccess', status: 'failed' },
  [EventTypes.decisionAnnounced]: { step: 'announceDecision', status: 'done' },
  [EventTypes.decisionAnnouncementFailed]: { step: 'announceDecision', status: 'failed' },
  [EventTypes.accessRestored]: { step: 'restoreAccess', status: 'done' },
  [EventTypes.accessRestorationFailed]: { step: 'restoreAccess', status: 'failed' },
  [EventTypes.exitInterviewCancelled]: { step: 'cancelInterview', status: 'done' },
  [EventTypes.exitInterviewCancellationFailed]: { step: 'cancelInterview', status: 'failed' },
  [EventTypes.accessRevoked]: { step: 'revokeAccess', status: 'done' },
  [EventTypes.accessRevocationFailed]: { step: 'revokeAccess', status: 'failed' },
};
export const OUTCOME_EVENT_TYPES = Object.keys(OUTCOMES);

/**
 * What settling a case changes, worked out from its row and its steps' statuses (pure): the new
 * status, the columns to update (only while the status is one of `onlyFrom`, when given), and the
 * timeline entries to add (deduplicated by their keys).
 */
export function settlement(
  kase: SettleRow,
  all: Partial<Record<StepName, StepStatus>>,
  at: Date,
): { status: CaseStatus; update: { status: CaseStatus; updated_at: Date; closed_at?: Date } | null; onlyFrom: CaseStatus[] | null; timeline: TimelineInput[] } {
  if (kase.decision) {
    const c = closedWhen(kase.decision, all);
    const status = c.status ?? kase.status;
    const closing = c.closed && !kase.closed_at;
    const timeline: TimelineInput[] = [];
    if (status === 'exited' && kase.status !== 'exited') {
      timeline.push({ service: 'ems', type: 'case.exited', summary: `${kase.employee_name} has left: every grant revoked`, dedupeKey: 'exited', at });
    }
    if (closing) timeline.push({ service: 'ems', type: 'case.closed', summary: `Case closed (${status})`, detail: { steps: all }, dedupeKey: 'closed', at });
    const update = status !== kase.status || closing ? { status, updated_at: at, ...(closing ? { closed_at: at } : {}) } : null;
    return { status, update, onlyFrom: null, timeline };
  }
  const steps = Object.fromEntries(STEP_NAMES.map((n) => [n, all[n] ?? 'pending'])) as Record<ReactionStep, StepStatus>;
  const status = statusAfterReactions(steps);
  const timeline: TimelineInput[] =
    status === 'in_progress'
      ? []
      : [
          {
            service: 'ems',
            type: status === 'awaiting_decision' ? 'reactions.completed' : 'reactions.incomplete',
            summary: status === 'awaiting_decision' ? 'All three reactions done; awaiting the decision' : 'A reaction failed; the case needs attention',
            detail: { steps },
            dedupeKey: `reactions.settled.${status}`,
            at,
          },
        ];
  return { status, update: { status, updated_at: at }, onlyFrom: ['in_progress', 'action_required'], timeline };
}

export function createCaseStore(db: Kysely<EmsDb>, clock: Clock, options: CaseStoreOptions) {
  /** A timeline row for an insert; the correlation id is the case's. */
  const timelineRow = (resignationId: string, correlationId: string, entry: TimelineInput) => ({
    resignation_id: resignationId,
    at: entry.at ?? clock.now(),
    service: entry.service,
    type: entry.type,
    summary: entry.summary,
    correlation_id: correlationId,
    detail: JSON.stringify(entry.detail ?? {}),
    dedupe_key: entry.dedupeKey,
    actor: entry.actor ? JSON.stringify(entry.actor) : null,
  });

  async function addTimeline(trx: Kysely<EmsDb>, resignationId: string, correlationId: string, entry: TimelineInput): Promise<void> {
    await trx
      .insertInto('timeline')
      .values(timelineRow(resignationId, correlationId, entry))
      .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
      .execute();
  }

  async function correlationOf(trx: Kysely<EmsDb>, id: string): Promise<string> {
    const row = await trx.selectFrom('resignations').select('correlation_id').where('id', '=', id).executeTakeFirstOrThrow();
    return row.correlation_id;
  }

  return {
    /**
     * Opens a case with its three pending steps and its first timeline entry, in one transaction.
     * Idempotent on the case id (a retried step finds its own case); an employee's second open case
     * is refused by the partial unique index, whatever the interleaving.
     */
    async open(draft: CaseDraft): Promise<OpenOutcome> {
      try {
        return await db.transaction().execute(async (trx) => {
          const inserted = await trx
            .insertInto('resignations')
            .values({
              id: draft.id,
              employee_id: draft.employee.id,
              employee_name: draft.employee.name,
              employee_email: draft.employee.email,
              employee_timezone: draft.employee.timezone,
              manager_id: draft.manager?.id ?? null,
              manager_name: draft.manager?.name ?? null,
              manager_email: draft.manager?.email ?? null,
              hr_partner_id: draft.hrPartnerId,
              last_working_day: draft.lastWorkingDay,
              reason: draft.reason,
              reason_category: draft.reasonCategory ?? null,
              department: draft.department ?? null,
              status: 'in_progress',
              mode: draft.mode,
              correlation_id: draft.correlationId,
              idempotency_key: draft.idempotencyKey,
              request_fingerprint: draft.requestFingerprint,
              traceparent: draft.traceparent,
              submitted_at: draft.submittedAt,
              updated_at: draft.submittedAt,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .returning('id')
            .executeTakeFirst();
          if (!inserted) return { outcome: 'existing' as const, id: draft.id };
          const expectedBy = new Date(Date.parse(draft.submittedAt) + options.stepDeadlineSeconds * 1000);
          await trx
            .insertInto('steps')
            .values(STEP_NAMES.map((name) => ({ resignation_id: draft.id, name, status: 'pending' as const, attempts: 0, expected_by: expectedBy })))
            .execute();
          if (options.bus) await options.bus.publish(trx, [submittedEvent(draft)]);
          await addTimeline(trx, draft.id, draft.correlationId, {
            service: 'ems',
            type: EventTypes.resignationSubmitted,
            summary: `${draft.employee.name} resigned; last working day ${draft.lastWorkingDay}`,
            detail: { employeeId: draft.employee.id, lastWorkingDay: draft.lastWorkingDay, mode: draft.mode },
            dedupeKey: 'submitted',
            at: new Date(draft.submittedAt),
            actor: draft.submittedBy,
          });
          return { outcome: 'created' as const, id: draft.id };
        });
      } catch (err) {
        // The same Idempotency-Key (so the same case id) inserted concurrently: PostgreSQL may find the key's
        // index taken before the id's, which ON CONFLICT (id) does not cover — it is the same case all the same.
        if (draft.idempotencyKey !== null && isUniqueViolation(err, 'resignations_idempotency_key_key')) return { outcome: 'existing' as const, id: draft.id };
        if (!isUniqueViolation(err, 'resignations_one_open_per_employee')) throw err;
        const existing = await this.findOpenByEmployee(draft.employee.id);
        if (!existing) throw err; // closed in between: let the caller retry
        return { outcome: 'conflict', existingId: existing };
      }
    },

    /**
     * A decision or a withdrawal, in one transaction: the state machine decides (under the case's row
     * lock, so concurrent requests serialise), then the decision, the steps it sets off, the timeline
     * entry and its event are written together. Repeating a decision that took effect changes nothing.
     */
    async decide(id: string, input: DecisionInput): Promise<DecideOutcome> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('resignations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (!row) return { outcome: 'not-found' as const };
        const now = clock.now();
        const t = decideTransition(
          {
            status: row.status,
            lastWorkingDay: row.last_working_day,
            decision: row.decision ? { kind: row.decision, lastWorkingDay: row.decided_last_working_day, revision: row.decision_revision, revokeAt: iso(row.revoke_at) } : null,
          },
          { kind: input.kind, lastWorkingDay: input.lastWorkingDay },
          localDate(now, row.employee_timezone),
          now,
        );
        if (t.outcome !== 'apply') return t;
        const revokeAt = t.lastWorkingDay ? endOfDay(t.lastWorkingDay, row.employee_timezone) : null;
        const note = input.note ? input.note : null;
        await trx
          .updateTable('resignations')
          .set({
            status: t.status,
            decision: t.kind,
            decided_at: now,
            decision_note: t.moved ? (note ?? row.decision_note) : note,
            decided_by: input.actor ? JSON.stringify(input.actor) : null,
            decided_last_working_day: t.lastWorkingDay,
            revoke_at: revokeAt,
            decision_revision: t.revision,
            updated_at: now,
          })
          .where('id', '=', id)
          .execute();
        const expectedBy = new Date(now.getTime() + options.stepDeadlineSeconds * 1000);
        const stepExpectedBy = (name: StepName) => (name === 'revokeAccess' && revokeAt ? new Date(revokeAt.getTime() + options.stepDeadlineSeconds * 1000) : expectedBy);
        for (const name of CLOSING_STEPS[t.kind]) {
          // A moved last day announces again and moves the revocation's deadline; nothing else restarts.
          const restart = !t.moved || name === 'announceDecision';
          await trx
            .insertInto('steps')
            .values({ resignation_id: id, name, status: 'pending', attempts: 0, expected_by: stepExpectedBy(name) })
            .onConflict((oc) =>
              oc.columns(['resignation_id', 'name']).doUpdateSet(
                restart
                  ? { status: 'pending', at: null, attempts: 0, last_error: null, result: null, expected_by: stepExpectedBy(name) }
                  : { expected_by: stepExpectedBy(name) },
              ),
            )
            .execute();
        }
        const event = decisionEvent(row, { kind: t.kind, at: now, note: t.moved ? (note ?? row.decision_note) : note, lastWorkingDay: t.lastWorkingDay, revokeAt, revision: t.revision, actor: input.actor ?? null });
        if (options.bus) await options.bus.publish(trx, [event]);
        await addTimeline(trx, id, row.correlation_id, {
          service: 'ems',
          type: event.type,
          summary: decisionSummary(row.employee_name, t.kind, t.lastWorkingDay, t.moved, note),
          detail: { decision: t.kind, revision: t.revision, lastWorkingDay: t.lastWorkingDay, revokeAt: revokeAt?.toISOString() ?? null, note },
          dedupeKey: `decision.${t.kind}.${t.revision}`,
          at: now,
          actor: input.actor,
        });
        return { outcome: 'applied' as const, revision: t.revision };
      });
    },

    /** Orchestration: what a participant did that settles no step (e.g. a revocation scheduled), once on the timeline. */
    async recordReaction(id: string, entry: TimelineInput): Promise<void> {
      await db.transaction().execute(async (trx) => addTimeline(trx, id, await correlationOf(trx, id), entry));
    },

    /** Orchestration: the open cases whose workflow is in its decision phase (waiting for a decision or a last day). */
    async casesInDecisionPhase(): Promise<string[]> {
      const rows = await db
        .selectFrom('resignations')
        .select('id')
        .where('mode', '=', 'orchestration')
        .where('closed_at', 'is', null)
        .where('status', 'in', ['awaiting_decision', 'action_required', 'exit_confirmed'])
        .execute();
      return rows.map((r) => r.id);
    },

    /** Orchestration: a follow-up the workflow sent (reminder or escalation), once on the timeline. */
    async recordFollowUp(id: string, f: { milestone: string; level: string; dueAt: string; to: string; emailId: string }): Promise<void> {
      await this.recordReaction(id, { service: 'hr', type: EventTypes.followUpSent, summary: followUpSummary(f), detail: { ...f }, dedupeKey: `follow-up.${f.milestone}.${f.level}` });
    },

    async findOpenByEmployee(employeeId: string): Promise<string | undefined> {
      const row = await db.selectFrom('resignations').select('id').where('employee_id', '=', employeeId).where('closed_at', 'is', null).executeTakeFirst();
      return row?.id;
    },

    async findByIdempotencyKey(key: string): Promise<{ id: string; fingerprint: string | null } | undefined> {
      const row = await db.selectFrom('resignations').select(['id', 'request_fingerprint']).where('idempotency_key', '=', key).executeTakeFirst();
      return row && { id: row.id, fingerprint: row.request_fingerprint };
    },

    async get(id: string): Promise<ems.Resignation | undefined> {
      const row = await db.selectFrom('resignations').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const [steps, connected] = await Promise.all([db.selectFrom('steps').selectAll().where('resignation_id', '=', id).execute(), connectedSystemsOf(db, [id])]);
      return toResignation(row, steps, connected.get(id));
    },

    /** What the decision phase of the orchestrator needs: the snapshot, the hold and interview booked, the decision. */
    async facts(id: string): Promise<CaseFacts | undefined> {
      const row = await db.selectFrom('resignations').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const steps = await db.selectFrom('steps').select(['name', 'status', 'result']).where('resignation_id', '=', id).execute();
      const result = (name: StepName) => {
        const r = steps.find((x) => x.name === name && x.status === 'done')?.result;
        return r && typeof r === 'object' ? (r as Record<string, unknown>) : undefined;
      };
      const interview = result('scheduleInterview');
      const hold = result('blockAccess');
      return {
        draft: draftFromRow(row),
        status: row.status,
        holdId: typeof hold?.holdId === 'string' ? hold.holdId : null,
        interview: typeof interview?.interviewId === 'string' && typeof interview.end === 'string' ? { id: interview.interviewId, end: interview.end } : null,
        decision: row.decision
          ? {
              kind: row.decision,
              revision: row.decision_revision,
              lastWorkingDay: row.decided_last_working_day,
              revokeAt: iso(row.revoke_at),
              note: row.decision_note,
              decidedBy: row.decided_by,
            }
          : null,
      };
    },

    /**
     * Orchestration: cases opened before `openedBefore` that have no workflow (their opener stopped
     * between opening the case and starting it), oldest first, a batch at a time.
     */
    async casesWithoutWorkflow(openedBefore: Date, limit = 100): Promise<CaseDraft[]> {
      const schema = options.workflowSchema;
      if (!schema) throw new Error('the case store was created without the workflow schema');
      const rows = await db
        .selectFrom('resignations')
        .selectAll()
        .where('mode', '=', 'orchestration')
        .where('status', '=', 'in_progress')
        .where('submitted_at', '<', openedBefore)
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom(sql.table(`${schema}.workflow_status`).as('w')).select(sql.lit(1).as('one')).where(sql.ref('w.workflow_uuid'), '=', sql`resignations.id::text`))),
        )
        .orderBy('submitted_at')
        .limit(limit)
        .execute();
      return rows.map(draftFromRow);
    },

    /** The orchestrator's view of a case: who to notify, whom it concerns. */
    async draftOf(id: string): Promise<Selectable<ResignationRow> | undefined> {
      return db.selectFrom('resignations').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** `employeeIds`: only cases of these employees (the caller's rows); undefined: all. */
    async list(query: { status?: CaseStatus | 'stuck' | undefined; employeeId?: string | undefined; employeeIds?: readonly string[] | undefined; limit: number; offset: number }): Promise<{ items: ems.Resignation[]; nextOffset: number | null }> {
      let q = db.selectFrom('resignations').selectAll().orderBy('submitted_at', 'desc').orderBy('id').limit(query.limit + 1).offset(query.offset);
      if (query.status === 'stuck') {
        // Stuck: an open case with a reaction overdue (late) or given up (failed).
        q = q
          .where('closed_at', 'is', null)
          .where((eb) =>
            eb.exists(eb.selectFrom('steps').select('steps.name').whereRef('steps.resignation_id', '=', 'resignations.id').where('steps.status', 'in', ['late', 'failed'])),
          );
      } else if (query.status) q = q.where('status', '=', query.status);
      if (query.employeeId) q = q.where('employee_id', '=', query.employeeId);
      if (query.employeeIds) q = query.employeeIds.length ? q.where('employee_id', 'in', [...query.employeeIds]) : q.where(sql<boolean>`false`);
      const rows = await q.execute();
      const page = rows.slice(0, query.limit);
      const ids = page.map((r) => r.id);
      const [steps, connected] = await Promise.all([ids.length ? db.selectFrom('steps').selectAll().where('resignation_id', 'in', ids).execute() : Promise.resolve([]), connectedSystemsOf(db, ids)]);
      return {
        items: page.map((r) => toResignation(r, steps.filter((s) => s.resignation_id === r.id), connected.get(r.id))),
        nextOffset: rows.length > query.limit ? query.offset + query.limit : null,
      };
    },

    async timeline(id: string): Promise<TimelineEntry[]> {
      const rows = await db.selectFrom('timeline').selectAll().where('resignation_id', '=', id).orderBy('at').orderBy('id').execute();
      return rows.map(toTimelineEntry);
    },

    /** A failed attempt that will be retried: counted, and shown on the timeline once per attempt. */
    async recordAttemptFailed(id: string, step: StepName, attempt: number, error: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('steps')
          .set({ attempts: sql<number>`greatest(attempts, ${attempt})`, last_error: error })
          .where('resignation_id', '=', id)
          .where('name', '=', step)
          .where('status', 'in', ['pending', 'late'])
          .execute();
        await addTimeline(trx, id, await correlationOf(trx, id), {
          service: 'ems',
          type: `${step}.attempt_failed`,
          summary: `${step}: attempt ${attempt} failed (${error}); retrying`,
          detail: { attempt, error },
          dedupeKey: `${step}.attempt.${attempt}`,
        });
      });
    },

    /**
     * Marks a step done (first writer wins; a retried writer changes nothing) and logs it — in ONE
     * statement (data-modifying CTEs, atomic on their own): the case's every step went through this
     * as BEGIN, update, read the correlation id, insert, update, COMMIT — six round trips, measured
     * as 15 % of orchestration's statements per case.
     */
    async recordStepDone(id: string, step: StepName, entry: Omit<TimelineInput, 'dedupeKey'> & { result: unknown; attempts: number }): Promise<void> {
      const at = entry.at ?? clock.now();
      const done = await db
        .with('s', (q) =>
          q
            .updateTable('steps')
            .set({ status: 'done', at, result: JSON.stringify(entry.result), attempts: sql<number>`greatest(attempts, ${entry.attempts})`, last_error: null })
            .where('resignation_id', '=', id)
            .where('name', '=', step)
            .where('status', 'in', ['pending', 'late', 'failed'])
            .returning('name'),
        )
        .with('r', (q) => q.updateTable('resignations').set({ updated_at: at }).where('id', '=', id).returning(['id', 'correlation_id']))
        .insertInto('timeline')
        .columns(['resignation_id', 'at', 'service', 'type', 'summary', 'correlation_id', 'detail', 'dedupe_key'])
        .expression((eb) =>
          eb
            .selectFrom('r')
            .select([
              'r.id',
              sql<Date>`${at}::timestamptz`.as('at'),
              sql<string>`${entry.service}::text`.as('service'),
              sql<string>`${entry.type}::text`.as('type'),
              sql<string>`${entry.summary}::text`.as('summary'),
              'r.correlation_id',
              sql<string>`${JSON.stringify(entry.detail ?? {})}::jsonb`.as('detail'),
              sql<string>`${`${step}.done`}::text`.as('dedupe_key'),
            ]),
        )
        .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
        .returning('resignation_id')
        .execute();
      // No row from `r`: the case does not exist (as before, when reading its correlation id threw).
      if (done.length === 0 && !(await db.selectFrom('resignations').select('id').where('id', '=', id).executeTakeFirst())) {
        throw new Error(`case ${id} does not exist`);
      }
    },

    async recordStepFailed(id: string, step: StepName, error: string, attempts: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const at = clock.now();
        await trx
          .updateTable('steps')
          .set({ status: 'failed', at, last_error: error, attempts: sql<number>`greatest(attempts, ${attempts})` })
          .where('resignation_id', '=', id)
          .where('name', '=', step)
          .where('status', 'in', ['pending', 'late'])
          .execute();
        await addTimeline(trx, id, await correlationOf(trx, id), {
          service: 'ems',
          type: `${step}.failed`,
          summary: summaries.stepFailed(step, error),
          detail: { error, attempts },
          dedupeKey: `${step}.failed`,
          at,
        });
      });
    },

    /**
     * Choreography: a service reported what it did. In one transaction (and once per event, however
     * often it is delivered): the step moves, the timeline shows the event with its source service,
     * and the case status follows once no step is still awaited. Events about a case this EMS does not
     * know, or that settle no step (e.g. an extension's), only add a timeline entry.
     */
    async recordReported(event: CloudEvent): Promise<'recorded' | 'duplicate' | 'unknown-case'> {
      // Six round trips (BEGIN, lock, dedupe, read the steps, write, COMMIT) where a step-by-step version
      // took eleven: the new status is worked out here; the step, the case and the timeline are written
      // by one statement. The steps are read by a statement of their own, AFTER the lock is held: a
      // subquery in the locking SELECT would see the snapshot from before it waited for the lock, i.e.
      // miss the step another event's tracker just moved (found by the acceptance suite: cases stuck
      // in progress with every step done).
      // A subject that is no case id (a person's, for an event about no case) is no case of ours; the uuid column would refuse it.
      if (!UUID.test(event.subject)) return 'unknown-case';
      return db.transaction().execute(async (trx) => {
        const kase = await trx
          .selectFrom('resignations')
          .select(['id', 'manager_name', 'employee_timezone', 'decision_revision', ...SETTLE_COLUMNS])
          .where('id', '=', event.subject)
          .forUpdate()
          .executeTakeFirst();
        if (!kase) return 'unknown-case' as const;
        if (!(await firstDelivery(trx, 'ems', TRACKER, event.id))) return 'duplicate' as const;
        const stepRows = await trx.selectFrom('steps').select(['name', 'status']).where('resignation_id', '=', kase.id).execute();
        const outcome = OUTCOMES[event.type];
        const at = new Date(event.time);
        const entry = timelineRow(kase.id, event.correlationid, {
          service: serviceOf(event.source),
          type: event.type,
          summary: describe(event, kase),
          // Which event said so, not what it carried: the payload names addresses the reader has no need for
          // (the step keeps the payload as its result).
          detail: { eventId: event.id, source: event.source, ...followUpOf(event) },
          dedupeKey: `event.${event.id}`,
          at,
        });
        const steps = Object.fromEntries(stepRows.map((r) => [r.name, r.status])) as Partial<Record<StepName, StepStatus>>;
        const current = outcome ? steps[outcome.step] : undefined;
        // An outcome for a step the case does not have (e.g. a hold released by hand before any
        // decision) is history, not progress; an announcement of an older revision neither.
        const moves =
          outcome !== undefined &&
          current !== undefined &&
          stepCanBecome(current, outcome.status) &&
          !(outcome.step === 'announceDecision' && revisionOf(event) !== kase.decision_revision);
        if (!outcome || !moves) {
          await trx.insertInto('timeline').values(entry).onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing()).execute();
          return 'recorded' as const;
        }
        const plan = settlement(kase, { ...steps, [outcome.step]: outcome.status }, clock.now());
        const settled = plan.timeline.map((e) => timelineRow(kase.id, event.correlationid, e));
        await trx
          .with('moved', (q) =>
            q
              .updateTable('steps')
              .set({
                status: outcome.status,
                at,
                attempts: sql<number>`greatest(attempts, 1)`,
                last_error: outcome.status === 'failed' ? reasonOf(event) : null,
                result: JSON.stringify(event.data),
              })
              .where('resignation_id', '=', kase.id)
              .where('name', '=', outcome.step)
              .returning('name'),
          )
          .with('settled', (q) => {
            // The row is locked by this transaction: the status read above is the status now.
            const update = q.updateTable('resignations').set(plan.update ?? { updated_at: at }).where('id', '=', kase.id);
            return (plan.onlyFrom ? update.where('status', 'in', plan.onlyFrom) : update).returning('id');
          })
          .insertInto('timeline')
          .values([entry, ...settled])
          .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
          .execute();
        return 'recorded' as const;
      });
    },

    /** Marks reactions past their deadline `late` (still awaited), with a timeline entry each. */
    async markOverdue(): Promise<number> {
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const overdue = await trx
          .updateTable('steps')
          .set({ status: 'late', at: now })
          .where('status', '=', 'pending')
          .where('expected_by', '<', now)
          .returning(['resignation_id', 'name', 'expected_by'])
          .execute();
        for (const o of overdue) {
          await addTimeline(trx, o.resignation_id, await correlationOf(trx, o.resignation_id), {
            service: 'ems',
            type: `${o.name}.late`,
            summary: `${o.name}: no reaction by ${new Date(o.expected_by!).toISOString()}; the step is late`,
            detail: { expectedBy: new Date(o.expected_by!).toISOString() },
            dedupeKey: `${o.name}.late`,
            at: now,
          });
        }
        return overdue.length;
      });
    },

    /**
     * The case status follows from its steps, in both modes. Before the decision: once no first
     * reaction is awaited the timeline says so — one entry per settled state, so a replay that turns
     * failed into done adds its own. After it: the case closes when what the decision set off is done.
     */
    async settle(id: string): Promise<CaseStatus> {
      return db.transaction().execute(async (trx) => {
        const kase = await trx.selectFrom('resignations').select([...SETTLE_COLUMNS, 'correlation_id']).where('id', '=', id).executeTakeFirstOrThrow();
        const rows = await trx.selectFrom('steps').select(['name', 'status']).where('resignation_id', '=', id).execute();
        const all = Object.fromEntries(rows.map((r) => [r.name, r.status])) as Partial<Record<StepName, StepStatus>>;
        const plan = settlement(kase, all, clock.now());
        if (plan.update) {
          let update = trx.updateTable('resignations').set(plan.update).where('id', '=', id);
          if (plan.onlyFrom) update = update.where('status', 'in', plan.onlyFrom);
          await update.execute();
        }
        for (const entry of plan.timeline) await addTimeline(trx, id, kase.correlation_id, entry);
        return plan.status;
      });
    },
  };
}

function submittedEvent(draft: CaseDraft): CloudEvent {
  return createEvent({
    // The case id: one submission event per case, whoever retries the write.
    id: draft.id,
    type: EventTypes.resignationSubmitted,
    source: EventSources.ems,
    subject: draft.id,
    correlationId: draft.correlationId,
    traceparent: draft.traceparent ?? undefined,
    time: new Date(draft.submittedAt),
    data: {
      resignationId: draft.id,
      employee: draft.employee,
      manager: draft.manager,
      hrPartnerId: draft.hrPartnerId,
      lastWorkingDay: draft.lastWorkingDay,
      reason: draft.reason,
      submittedAt: draft.submittedAt,
    },
  });
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

/** A follow-up's milestone, level and due instant (never its addressee): what GET /api/follow-ups reads back. */
function followUpOf(event: CloudEvent): Record<string, unknown> {
  if (event.type !== EventTypes.followUpSent) return {};
  const d = event.data as { milestone?: unknown; level?: unknown; dueAt?: unknown };
  return { milestone: d.milestone, level: d.level, dueAt: d.dueAt };
}

function draftFromRow(row: Selectable<ResignationRow>): CaseDraft {
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

function decisionEvent(
  row: Selectable<ResignationRow>,
  d: { kind: DecisionKind; at: Date; note: string | null; lastWorkingDay: string | null; revokeAt: Date | null; revision: number; actor: Actor | null },
): CloudEvent {
  const { employee, manager, hrPartnerId } = draftFromRow(row);
  const base = {
    resignationId: row.id,
    employee,
    manager,
    hrPartnerId,
    decidedAt: d.at.toISOString(),
    note: d.note,
    decidedBy: d.actor,
  };
  const type = d.kind === 'retained' ? EventTypes.resignationRetained : d.kind === 'withdrawn' ? EventTypes.resignationWithdrawn : EventTypes.exitConfirmed;
  return createEvent({
    // One event per decision and revision, whoever retries the write.
    id: `${row.id}.${d.kind}.${d.revision}`,
    type,
    source: EventSources.ems,
    subject: row.id,
    correlationId: row.correlation_id,
    traceparent: row.traceparent ?? undefined,
    time: d.at,
    data: d.kind === 'exit_confirmed' ? { ...base, lastWorkingDay: d.lastWorkingDay, revokeAt: d.revokeAt!.toISOString(), revision: d.revision } : base,
  });
}

function decisionSummary(employee: string, kind: DecisionKind, lastWorkingDay: string | null, moved: boolean, note: string | null): string {
  const why = note ? ` — ${note}` : '';
  if (kind === 'retained') return `Decision: ${employee} is retained; the resignation is off${why}`;
  if (kind === 'withdrawn') return `${employee} withdrew the resignation${why}`;
  return moved ? `Last working day moved to ${lastWorkingDay}${why}` : `Decision: exit confirmed, last working day ${lastWorkingDay}${why}`;
}

function followUpSummary(f: { milestone: string; level: string; to: string }): string {
  const what = f.milestone === 'interview_scheduled' ? 'interview not scheduled' : f.milestone === 'interview_held' ? 'interview not held' : 'no decision';
  return f.level === 'reminder' ? `Reminder sent to ${f.to}: ${what} by its deadline` : `Escalated to ${f.to}: ${what}, reminder unanswered`;
}

function revisionOf(event: CloudEvent): number {
  const r = (event.data as { revision?: unknown }).revision;
  return typeof r === 'number' ? r : 1;
}

function reasonOf(event: CloudEvent): string {
  const reason = (event.data as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : 'failed';
}

/** '/ems/notification' → 'notification' */
function serviceOf(source: string): string {
  return source.split('/').filter(Boolean).pop() ?? source;
}

/** The timeline's sentence for a reported event; names come from the case's own snapshot. */
function describe(event: CloudEvent, kase: { employee_name: string; manager_name: string | null; employee_timezone: string }): string {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case EventTypes.managerNotified:
      return typeof d.skipped === 'string' ? summaries.noManager(kase.employee_name) : summaries.managerNotified(kase.manager_name ?? String(d.to));
    case EventTypes.exitInterviewScheduled:
      return summaries.interviewScheduled(String(d.start), String(d.timezone));
    case EventTypes.criticalAccessSuspended:
      return summaries.accessSuspended(((d.suspended as Array<{ system: string }>) ?? []).map((g) => g.system));
    case EventTypes.decisionAnnounced: {
      // Notification tells the manager (when there is one) and the employee, as the orchestrator does.
      const people = (d.recipients as unknown[] | undefined)?.length === 1 || !kase.manager_name ? [kase.employee_name] : [kase.manager_name, kase.employee_name];
      return summaries.decisionAnnounced(String(d.decision), people);
    }
    case EventTypes.accessRestored: {
      const restored = ((d.restored as Array<{ system: string }>) ?? []).map((g) => g.system);
      const skipped = ((d.skipped as Array<{ system: string }>) ?? []).map((g) => g.system);
      return summaries.accessRestored(restored, skipped);
    }
    case EventTypes.exitInterviewCancelled:
      return typeof d.skipped === 'string' ? `No interview to cancel (${d.skipped})` : 'Exit interview cancelled; cancellations sent';
    case EventTypes.exitInterviewHeld:
      return 'Exit interview held';
    case EventTypes.accessRevocationScheduled:
      return summaries.revocationScheduled(String(d.revokeAt), kase.employee_timezone);
    case EventTypes.accessRevoked: {
      const revoked = ((d.revoked as Array<{ system: string }>) ?? []).map((g) => g.system);
      return revoked.length ? `All access revoked: ${revoked.join(', ')}` : 'No access left to revoke';
    }
    case EventTypes.followUpSent:
      return followUpSummary({ milestone: String(d.milestone), level: String(d.level), to: String(d.to) });
    default: {
      const failed = OUTCOMES[event.type];
      if (failed?.status === 'failed') return summaries.stepFailed(failed.step, reasonOf(event));
      // Another participant's event (an extension's): its name in words, never the raw type.
      const what = summaries.eventInWords(serviceOf(event.source), event.type);
      return typeof d.reason === 'string' ? `${what}: ${d.reason}` : what;
    }
  }
}

function iso(v: Date | string | null): string | null {
  return v === null ? null : new Date(v).toISOString();
}

function toResignation(row: Selectable<ResignationRow>, steps: readonly Selectable<StepRow>[], connected: { systems: ems.CaseSystem[]; drifts: ems.CaseDrift[] } | undefined): ems.Resignation {
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
    steps: { notifyManager: step('notifyManager'), scheduleInterview: step('scheduleInterview'), blockAccess: step('blockAccess'), ...optional },
    systems: connected?.systems ?? [],
    drifts: connected?.drifts ?? [],
    responsible: responsibleOf(row),
  };
}

/** Who is responsible now (the directory's latest word on an open case), beside the submission's. */
function responsibleOf(row: Selectable<ResignationRow>): ems.Responsible {
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

function toTimelineEntry(row: Selectable<TimelineRow>): TimelineEntry {
  // A service's own reaction: the service is the actor, through its reaction (a workflow step or an event).
  const actor = row.actor ?? { id: row.service, kind: 'service' as const, name: null, role: 'service', client: row.service };
  return { at: iso(row.at)!, service: row.service, type: row.type, summary: row.summary, correlationId: row.correlation_id, detail: row.detail, actor };
}
