import { sql, type Kysely, type Selectable } from 'kysely';
import type { Clock } from '@ems/platform';
import { isUniqueViolation } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { EventSources, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { createEvent, firstDelivery, type EventBus } from '@ems/eventbus';
import type { EmsDb, ResignationRow, StepRow, TimelineRow } from '../db/types.ts';
import { STEP_NAMES, stepCanBecome, statusAfterReactions, type CaseStatus, type StepName, type StepStatus } from '../domain/resignation.ts';
import { summaries } from '../domain/summaries.ts';

/** Everything known about a case when it is opened; the orchestrator acts on this snapshot. */
export interface CaseDraft {
  id: string;
  employee: { id: string; name: string; email: string; timezone: string };
  manager: { id: string; name: string; email: string } | null;
  hrPartnerId: string;
  lastWorkingDay: string;
  reason: string | null;
  mode: 'orchestration' | 'choreography';
  correlationId: string;
  /** W3C trace context the submission arrived with, continued by every event of the case. */
  traceparent: string | null;
  idempotencyKey: string | null;
  requestFingerprint: string | null;
  submittedAt: string;
}

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
}

export type CaseStore = ReturnType<typeof createCaseStore>;
export type TimelineEntry = { at: string; service: string; type: string; summary: string; correlationId: string; detail: Record<string, unknown> };

export interface CaseStoreOptions {
  /** When set, `resignation submitted` is published in the same transaction that opens the case. */
  bus?: EventBus | undefined;
  /** How long after submission a reaction may take before its step is marked late. */
  stepDeadlineSeconds: number;
}

/** The subscriber name of EMS's tracker (choreography); it keys EMS's processed-event records. */
export const TRACKER = 'ems.track-reactions-when-reported';

/** Outcome events → the step they settle. */
const OUTCOMES: Record<string, { step: StepName; status: 'done' | 'failed' }> = {
  [EventTypes.managerNotified]: { step: 'notifyManager', status: 'done' },
  [EventTypes.managerNotificationFailed]: { step: 'notifyManager', status: 'failed' },
  [EventTypes.exitInterviewScheduled]: { step: 'scheduleInterview', status: 'done' },
  [EventTypes.exitInterviewSchedulingFailed]: { step: 'scheduleInterview', status: 'failed' },
  [EventTypes.criticalAccessSuspended]: { step: 'blockAccess', status: 'done' },
  [EventTypes.criticalAccessSuspensionFailed]: { step: 'blockAccess', status: 'failed' },
};
export const OUTCOME_EVENT_TYPES = Object.keys(OUTCOMES);

export function createCaseStore(db: Kysely<EmsDb>, clock: Clock, options: CaseStoreOptions) {
  async function addTimeline(trx: Kysely<EmsDb>, resignationId: string, correlationId: string, entry: TimelineInput): Promise<void> {
    await trx
      .insertInto('timeline')
      .values({
        resignation_id: resignationId,
        at: entry.at ?? clock.now(),
        service: entry.service,
        type: entry.type,
        summary: entry.summary,
        correlation_id: correlationId,
        detail: JSON.stringify(entry.detail ?? {}),
        dedupe_key: entry.dedupeKey,
      })
      .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
      .execute();
  }

  async function correlationOf(trx: Kysely<EmsDb>, id: string): Promise<string> {
    const row = await trx.selectFrom('resignations').select('correlation_id').where('id', '=', id).executeTakeFirstOrThrow();
    return row.correlation_id;
  }

  /**
   * The case status follows from its steps, in both modes; once no step is awaited the timeline says
   * so — one entry per settled state, so a replay that turns failed into done adds its own.
   */
  async function settleIn(trx: Kysely<EmsDb>, id: string, correlationId: string): Promise<CaseStatus> {
    const rows = await trx.selectFrom('steps').select(['name', 'status']).where('resignation_id', '=', id).execute();
    const steps = Object.fromEntries(rows.map((r) => [r.name, r.status])) as Record<StepName, StepStatus>;
    const status = statusAfterReactions(steps);
    const at = clock.now();
    await trx.updateTable('resignations').set({ status, updated_at: at }).where('id', '=', id).where('status', 'in', ['in_progress', 'action_required']).execute();
    if (status !== 'in_progress') {
      await addTimeline(trx, id, correlationId, {
        service: 'ems',
        type: status === 'awaiting_decision' ? 'reactions.completed' : 'reactions.incomplete',
        summary: status === 'awaiting_decision' ? 'All three reactions done; awaiting the decision' : 'A reaction failed; the case needs attention',
        detail: { steps },
        dedupeKey: `reactions.settled.${status}`,
        at,
      });
    }
    return status;
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
          });
          return { outcome: 'created' as const, id: draft.id };
        });
      } catch (err) {
        if (!isUniqueViolation(err, 'resignations_one_open_per_employee')) throw err;
        const existing = await this.findOpenByEmployee(draft.employee.id);
        if (!existing) throw err; // closed in between: let the caller retry
        return { outcome: 'conflict', existingId: existing };
      }
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
      const steps = await db.selectFrom('steps').selectAll().where('resignation_id', '=', id).execute();
      return toResignation(row, steps);
    },

    /** The orchestrator's view of a case: who to notify, whom it concerns. */
    async draftOf(id: string): Promise<Selectable<ResignationRow> | undefined> {
      return db.selectFrom('resignations').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async list(query: { status?: CaseStatus | 'stuck' | undefined; employeeId?: string | undefined; limit: number; offset: number }): Promise<{ items: ems.Resignation[]; nextOffset: number | null }> {
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
      const rows = await q.execute();
      const page = rows.slice(0, query.limit);
      const steps = page.length
        ? await db.selectFrom('steps').selectAll().where('resignation_id', 'in', page.map((r) => r.id)).execute()
        : [];
      return {
        items: page.map((r) => toResignation(r, steps.filter((s) => s.resignation_id === r.id))),
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

    /** Marks a step done (first writer wins; a retried writer changes nothing) and logs it. */
    async recordStepDone(id: string, step: StepName, entry: Omit<TimelineInput, 'dedupeKey'> & { result: unknown; attempts: number }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const at = entry.at ?? clock.now();
        await trx
          .updateTable('steps')
          .set({ status: 'done', at, result: JSON.stringify(entry.result), attempts: sql<number>`greatest(attempts, ${entry.attempts})`, last_error: null })
          .where('resignation_id', '=', id)
          .where('name', '=', step)
          .where('status', 'in', ['pending', 'late', 'failed'])
          .execute();
        await addTimeline(trx, id, await correlationOf(trx, id), { ...entry, at, dedupeKey: `${step}.done` });
        await trx.updateTable('resignations').set({ updated_at: at }).where('id', '=', id).execute();
      });
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
          summary: `${step} failed after ${attempts} attempt(s): ${error}`,
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
      return db.transaction().execute(async (trx) => {
        const kase = await trx.selectFrom('resignations').select(['id', 'employee_name', 'manager_name']).where('id', '=', event.subject).forUpdate().executeTakeFirst();
        if (!kase) return 'unknown-case' as const;
        if (!(await firstDelivery(trx, 'ems', TRACKER, event.id))) return 'duplicate' as const;
        const service = serviceOf(event.source);
        const outcome = OUTCOMES[event.type];
        const at = new Date(event.time);
        await addTimeline(trx, kase.id, event.correlationid, {
          service,
          type: event.type,
          summary: describe(event, kase),
          detail: { eventId: event.id, source: event.source, data: event.data as Record<string, unknown> },
          dedupeKey: `event.${event.id}`,
          at,
        });
        if (!outcome) return 'recorded' as const;
        const step = await trx.selectFrom('steps').select(['status']).where('resignation_id', '=', kase.id).where('name', '=', outcome.step).executeTakeFirstOrThrow();
        if (!stepCanBecome(step.status, outcome.status)) return 'recorded' as const;
        await trx
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
          .execute();
        await settleIn(trx, kase.id, event.correlationid);
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

    /** After the reactions: the case status follows from its steps. */
    async settle(id: string): Promise<CaseStatus> {
      return db.transaction().execute(async (trx) => settleIn(trx, id, await correlationOf(trx, id)));
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

function reasonOf(event: CloudEvent): string {
  const reason = (event.data as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : 'failed';
}

/** '/ems/notification' → 'notification' */
function serviceOf(source: string): string {
  return source.split('/').filter(Boolean).pop() ?? source;
}

/** The timeline's sentence for a reported event; names come from the case's own snapshot. */
function describe(event: CloudEvent, kase: { employee_name: string; manager_name: string | null }): string {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case EventTypes.managerNotified:
      return typeof d.skipped === 'string' ? summaries.noManager(kase.employee_name) : summaries.managerNotified(kase.manager_name ?? String(d.to));
    case EventTypes.exitInterviewScheduled:
      return summaries.interviewScheduled(String(d.start), String(d.timezone));
    case EventTypes.criticalAccessSuspended:
      return summaries.accessSuspended(((d.suspended as Array<{ system: string }>) ?? []).map((g) => g.system));
    default:
      return typeof d.reason === 'string' ? `${event.type}: ${d.reason}` : event.type;
  }
}

function iso(v: Date | string | null): string | null {
  return v === null ? null : new Date(v).toISOString();
}

function toResignation(row: Selectable<ResignationRow>, steps: readonly Selectable<StepRow>[]): ems.Resignation {
  const step = (name: StepName) => {
    const s = steps.find((x) => x.name === name);
    return { status: s?.status ?? 'pending', at: iso(s?.at ?? null), expectedBy: iso(s?.expected_by ?? null), attempts: s?.attempts ?? 0, lastError: s?.last_error ?? null };
  };
  return {
    id: row.id,
    employeeId: row.employee_id,
    employeeName: row.employee_name,
    lastWorkingDay: row.last_working_day,
    reason: row.reason,
    status: row.status,
    mode: row.mode,
    correlationId: row.correlation_id,
    submittedAt: iso(row.submitted_at)!,
    updatedAt: iso(row.updated_at)!,
    steps: { notifyManager: step('notifyManager'), scheduleInterview: step('scheduleInterview'), blockAccess: step('blockAccess') },
  };
}

function toTimelineEntry(row: Selectable<TimelineRow>): TimelineEntry {
  return { at: iso(row.at)!, service: row.service, type: row.type, summary: row.summary, correlationId: row.correlation_id, detail: row.detail };
}
