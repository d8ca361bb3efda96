import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { arrayParam, isUniqueViolation, type Clock } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { EventTypes } from '@ems/contracts/events';
import type { EventBus } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { CLOSING_STEPS, decideTransition, endOfDay, localDate, STEP_NAMES, type CaseStatus, type StepName, type StepStatus } from '../domain/resignation.ts';
import { connectedSystemsOf } from '../connected-systems/record-system-access.ts';
import type { CaseDraft, CaseFacts, CaseIntake, DecideOutcome, DecisionInput, OpenOutcome, TimelineEntry, TimelineInput } from './case.types.ts';
import { draftFromRow, iso, toResignation, toTimelineEntry } from './case.view.ts';
import { decisionEvent, submittedEvent } from './resignation.events.ts';
import { settlement } from './settlement.ts';
import { stepsDoneTogether } from './record-step-done.ts';
import { summaries } from '../domain/summaries.ts';

/*
 * The case store: every read and write of EMS's own tables (cases, steps, timeline), in both modes.
 * What it is made of lives beside it: the case's types (case.types.ts), rows → contracts
 * (case.view.ts), the events EMS publishes with a write (resignation.events.ts), how the status
 * follows from the steps (settlement.ts) and every timeline sentence (domain/summaries.ts). What
 * only one mode does lives in that mode's folder: choreography/track-reactions-when-reported.ts
 * (the tracker) and orchestration/cases-without-workflow.ts (a query on DBOS's own table).
 */

export type { CaseDraft, CaseFacts, CaseIntake, DecideOutcome, DecisionInput, OpenOutcome, TimelineEntry, TimelineInput } from './case.types.ts';
export { settlement } from './settlement.ts';

export type CaseStore = ReturnType<typeof createCaseStore>;

export interface CaseStoreOptions {
  /** When set, `resignation submitted` is published in the same transaction that opens the case. */
  bus?: EventBus | undefined;
  /** How long after submission a reaction may take before its step is marked late. */
  stepDeadlineSeconds: number;
  /**
   * Told of each case this store opens, once it is committed (before the case's workflow starts or its
   * event can be delivered): the in-process case lookup remembers it, so the participants' checks that
   * the case exists need not read it back.
   */
  opened?: ((kase: { id: string; employeeId: string }) => void) | undefined;
}

/** A timeline row for an insert; the correlation id is the case's. `now`: when the entry names no time of its own. */
export function timelineRow(resignationId: string, correlationId: string, now: Date, entry: TimelineInput) {
  return {
    resignation_id: resignationId,
    at: entry.at ?? now,
    service: entry.service,
    type: entry.type,
    summary: entry.summary,
    correlation_id: correlationId,
    detail: JSON.stringify(entry.detail ?? {}),
    dedupe_key: entry.dedupeKey,
    actor: entry.actor ? JSON.stringify(entry.actor) : null,
  };
}

/** A case's steps (name, status, result) as one column of the case's own row: one round trip, not two. */
function stepsOfCase(eb: ExpressionBuilder<EmsDb, 'resignations'>) {
  return eb
    .selectFrom('steps')
    .select(sql<{ name: StepName; status: StepStatus; result: unknown }[]>`coalesce(jsonb_agg(jsonb_build_object('name', ${sql.ref('steps.name')}, 'status', ${sql.ref('steps.status')}, 'result', ${sql.ref('steps.result')})), '[]'::jsonb)`.as('steps'))
    .whereRef('steps.resignation_id', '=', 'resignations.id')
    .$asScalar()
    .$notNull()
    .as('step_rows');
}

export function createCaseStore(db: Kysely<EmsDb>, clock: Clock, options: CaseStoreOptions) {
  async function addTimeline(trx: Kysely<EmsDb>, resignationId: string, correlationId: string, entry: TimelineInput): Promise<void> {
    await trx
      .insertInto('timeline')
      .values(timelineRow(resignationId, correlationId, clock.now(), entry))
      .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
      .execute();
  }

  async function correlationOf(trx: Kysely<EmsDb>, id: string): Promise<string> {
    const row = await trx.selectFrom('resignations').select('correlation_id').where('id', '=', id).executeTakeFirstOrThrow();
    return row.correlation_id;
  }

  /** Settles the case (see `settle`): its new status. */
  async function settleCase(id: string): Promise<CaseStatus> {
    return db.transaction().execute(async (trx) => {
      const found = await factsQuery(trx, id).executeTakeFirstOrThrow();
      const all = Object.fromEntries(found.step_rows.map((r) => [r.name, r.status])) as Partial<Record<StepName, StepStatus>>;
      const plan = settlement(found, all, clock.now());
      if (plan.update) {
        let update = trx.updateTable('resignations').set(plan.update).where('id', '=', id);
        if (plan.onlyFrom) update = update.where('status', 'in', plan.onlyFrom);
        await update.execute();
      }
      for (const entry of plan.timeline) await addTimeline(trx, id, found.correlation_id, entry);
      return plan.status;
    });
  }

  return {
    /**
     * Opens a case with its three pending steps and its first timeline entry, in one transaction: the case, then
     * its steps and entry together, then its event (when the store has a bus: both modes give it one).
     * Idempotent on the case id (a retried step finds its own case); an employee's second open case
     * is refused by the partial unique index, whatever the interleaving. Given an intake's reads, they run first in
     * the same transaction; what they throw refuses the case, with nothing written.
     */
    async open(intake: CaseIntake): Promise<OpenOutcome> {
      let opening: CaseDraft | undefined;
      try {
        const outcome = await db.transaction().execute(async (trx) => {
          const draft = typeof intake === 'function' ? await intake(trx) : intake;
          opening = draft;
          const expectedBy = new Date(Date.parse(draft.submittedAt) + options.stepDeadlineSeconds * 1000);
          const submitted = timelineRow(draft.id, draft.correlationId, clock.now(), {
            service: 'ems',
            type: EventTypes.resignationSubmitted,
            summary: summaries.submitted(draft.employee.name, draft.lastWorkingDay),
            detail: { employeeId: draft.employee.id, lastWorkingDay: draft.lastWorkingDay, mode: draft.mode },
            dedupeKey: 'submitted',
            at: new Date(draft.submittedAt),
            actor: draft.submittedBy,
          });
          // The case, its steps and its first timeline entry in ONE statement (were two, and three before): the steps
          // and the entry are inserted from the case's row as the statement inserted it — none when the case exists
          // already (ON CONFLICT on its id); data-modifying CTEs run whether or not the SELECT reads them.
          const inserted = await trx
            .with('c', (q) =>
              q
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
                .returningAll(),
            )
            .with('entry', (q) =>
              q
                .insertInto('timeline')
                .columns(['resignation_id', 'at', 'service', 'type', 'summary', 'correlation_id', 'detail', 'dedupe_key', 'actor'])
                .expression((eb) =>
                  eb
                    .selectFrom('c')
                    .select([
                      'c.id',
                      // Typed: a bare parameter in a SELECT list is text to PostgreSQL.
                      sql<Date>`${submitted.at}::timestamptz`.as('at'),
                      eb.val(submitted.service).as('service'),
                      eb.val(submitted.type).as('type'),
                      eb.val(submitted.summary).as('summary'),
                      'c.correlation_id',
                      sql<unknown>`${submitted.detail}::jsonb`.as('detail'),
                      eb.val(submitted.dedupe_key).as('dedupe_key'),
                      sql<unknown>`${submitted.actor}::jsonb`.as('actor'),
                    ]),
                )
                .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing()),
            )
            .with('s', (q) =>
              q
                .insertInto('steps')
                .columns(['resignation_id', 'name', 'status', 'attempts', 'expected_by'])
                .expression((eb) =>
                  eb
                    .selectFrom(['c', sql<{ n: string }>`unnest(${arrayParam(STEP_NAMES, 'text')})`.as('n')])
                    .select(['c.id', 'n.n', sql<string>`'pending'`.as('status'), sql<number>`0`.as('attempts'), sql<Date>`${expectedBy}::timestamptz`.as('expected_by')]),
                ),
            )
            .selectFrom('c')
            .selectAll()
            .executeTakeFirst();
          if (!inserted) return { outcome: 'existing' as const, id: draft.id, draft };
          // The steps as that statement inserted them.
          const steps = STEP_NAMES.map((name) => ({ resignation_id: draft.id, name, status: 'pending' as const, at: null, attempts: 0, last_error: null, result: null, expected_by: expectedBy }));
          if (options.bus) await options.bus.publish(trx, [submittedEvent(draft)]);
          // The case as created (a new case has no connected systems yet): the caller need not read it back.
          return { outcome: 'created' as const, id: draft.id, draft, resignation: toResignation(inserted, steps, undefined) };
        });
        if (outcome.outcome === 'created') options.opened?.({ id: outcome.id, employeeId: outcome.draft.employee.id });
        return outcome;
      } catch (err) {
        const draft = opening;
        if (draft === undefined) throw err; // the intake refused it (or could not read)
        // The same Idempotency-Key (so the same case id) inserted concurrently: PostgreSQL may find the key's
        // index taken before the id's, which ON CONFLICT (id) does not cover — it is the same case all the same.
        if (draft.idempotencyKey !== null && isUniqueViolation(err, 'resignations_idempotency_key_key')) return { outcome: 'existing' as const, id: draft.id, draft };
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
          summary: summaries.decision(row.employee_name, t.kind, t.lastWorkingDay, t.moved, note),
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

    /** Orchestration: the open cases past their reactions (waiting for a decision or a last day; in their decision workflow once it has begun). */
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
      await this.recordReaction(id, { service: 'hr', type: EventTypes.followUpSent, summary: summaries.followUp(f), detail: { ...f }, dedupeKey: `follow-up.${f.milestone}.${f.level}` });
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
      const found = await factsQuery(db, id).executeTakeFirst();
      return found && factsFromRow(found);
    },

    /** The orchestrator's view of a case: who to notify, whom it concerns (what its workflows start with). */
    async draft(id: string): Promise<CaseDraft | undefined> {
      const row = await db.selectFrom('resignations').selectAll().where('id', '=', id).executeTakeFirst();
      return row && draftFromRow(row);
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
      // ONE statement, as recordStepDone (a data-modifying CTE runs whether or not the insert reads it): in a
      // burst, retried calls made this BEGIN, update, read the correlation id, insert, COMMIT — five round trips.
      const at = clock.now();
      const inserted = await db
        .with('s', (q) =>
          q
            .updateTable('steps')
            .set({ attempts: sql<number>`greatest(attempts, ${attempt})`, last_error: error })
            .where('resignation_id', '=', id)
            .where('name', '=', step)
            .where('status', 'in', ['pending', 'late'])
            .returning('name'),
        )
        .insertInto('timeline')
        .columns(['resignation_id', 'at', 'service', 'type', 'summary', 'correlation_id', 'detail', 'dedupe_key'])
        .expression((eb) =>
          eb
            .selectFrom('resignations')
            .select([
              'resignations.id',
              sql<Date>`${at}::timestamptz`.as('at'),
              sql<string>`'ems'::text`.as('service'),
              sql<string>`${`${step}.attempt_failed`}::text`.as('type'),
              sql<string>`${summaries.attemptFailed(step, attempt, error)}::text`.as('summary'),
              'resignations.correlation_id',
              sql<string>`${JSON.stringify({ attempt, error })}::jsonb`.as('detail'),
              sql<string>`${`${step}.attempt.${attempt}`}::text`.as('dedupe_key'),
            ])
            .where('resignations.id', '=', id),
        )
        .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
        .returning('resignation_id')
        .execute();
      // Nothing inserted: the entry was there already (a replay), or the case does not exist (as before, when reading its correlation id threw).
      if (inserted.length === 0 && !(await db.selectFrom('resignations').select('id').where('id', '=', id).executeTakeFirst())) {
        throw new Error(`case ${id} does not exist`);
      }
    },

    /**
     * Marks a step done (first writer wins; a retried writer changes nothing) and logs it: the records asked
     * for at the same time written by one statement (record-step-done.ts). A case that does not exist rejects.
     */
    recordStepDone: stepsDoneTogether(db, clock),

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

    /** Marks reactions past their deadline `late` (still awaited), with a timeline entry each. */
    async markOverdue(): Promise<number> {
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const overdue = await trx
          .updateTable('steps')
          .set({ status: 'late', at: now })
          // A literal: a prepared statement's generic plan can then use the partial index steps_overdue (status = 'pending').
          .where('status', '=', sql.lit('pending'))
          .where('expected_by', '<', now)
          .returning(['resignation_id', 'name', 'expected_by'])
          .execute();
        for (const o of overdue) {
          await addTimeline(trx, o.resignation_id, await correlationOf(trx, o.resignation_id), {
            service: 'ems',
            type: `${o.name}.late`,
            summary: summaries.stepLate(o.name, new Date(o.expected_by!).toISOString()),
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
    settle: settleCase,
  };
}

/** The case's row and its steps as one column: what `facts` and settling read. */
function factsQuery(db: Kysely<EmsDb>, id: string) {
  return db.selectFrom('resignations').selectAll('resignations').select(stepsOfCase).where('id', '=', id);
}

/** What the decision phase of the orchestrator needs, from the facts query's row. */
function factsFromRow(found: NonNullable<Awaited<ReturnType<ReturnType<typeof factsQuery>['executeTakeFirst']>>>): CaseFacts {
  const { step_rows: steps, ...row } = found;
  const result = (name: StepName) => {
    const r = steps.find((x) => x.name === name && x.status === 'done')?.result;
    return r && typeof r === 'object' ? (r as Record<string, unknown>) : undefined;
  };
  const interview = result('scheduleInterview');
  const hold = result('suspendAccess');
  return {
    draft: draftFromRow(row),
    kind: row.kind,
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
}
