/*
 * The orchestrated resignation: two durable DBOS workflows per case.
 *
 *   POST /api/resignations ──open the case (one transaction)──(employee already has an open case)──▶ 409
 *                          ──startWorkflow(<caseId>:reactions)──▶ 201
 *                         ┌──────────────────────────────┼──────────────────────────────┐
 *                  notifyManager                  scheduleInterview                suspendAccess       in parallel, each
 *         (Notification: notifyManager)              (HR API)                      (Access API)       retried with backoff,
 *                                                                                                     recorded on the case
 *                         └──────────────────────────────┼──────────────────────────────┘
 *                                    record failures (in a fixed order), settle the case status: the workflow ends
 *
 *   then, when a decision comes or the case's first follow-up can be due (whichever is first), the case's
 *   decision workflow (decision.workflow.ts, id = the case id) — it waits, durably, for days.
 *
 * The request opens the case, then starts its reactions workflow (idempotent on its id). A process that dies
 * between the two leaves a case without a workflow: `startOrphans` (run by EMS's sweeper, so at start-up and
 * every few seconds, on every replica) starts the workflow of any such case, and the decision workflow of any
 * case whose first follow-up is due without one.
 *
 * The reactions are plain calls of the workflow, not DBOS steps (tracked-step.ts, `runCaseSteps`): nothing
 * durable follows them in this workflow, so a crash reruns it from the start, and every participant call carries
 * an idempotency key derived from the case, every write to the case store is idempotent. (Until resignation-v7
 * the decision phase followed in this same workflow: a DBOS step around the reactions, to replay the same, and
 * its first wait cost ~10 commits per case in a burst — as many as all the rest of the case. Measured: README,
 * "the lean path, thirty-fifth round".)
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError, type Logger } from '@ems/platform';
import { recordOutcomesPlainly, runCaseSteps, type Reaction, type RetryPolicy } from './tracked-step.ts';
import type { DecisionOrchestrator } from './decision.workflow.ts';
import type { CaseDraft, CaseIntake, CaseStore, OpenOutcome } from '../resignations/case-store.ts';
import type { CaseStatus, ReactionStep } from '../domain/resignation.ts';
import { summaries } from '../domain/summaries.ts';
import { EventTypes } from '@ems/contracts/events';
import type { Participants } from './participants.ts';
import type { CaseStarter } from '../resignations/submit-resignation.ts';

/** The case's reactions workflow (its id: `reactionsWorkflowId`). The case's decision workflow keeps the name 'resignation' (decision.workflow.ts). */
export const REACTIONS_WORKFLOW_NAME = 'resignation.reactions';
/** The reactions workflow's id: the case's, with this suffix (the case's own id is its decision workflow's). */
export const REACTIONS_ID_SUFFIX = ':reactions';
const reactionsWorkflowId = (caseId: string): string => `${caseId}${REACTIONS_ID_SUFFIX}`;
/** A case this much older than its workflow-to-be is an orphan (its opener died before starting it). */
const ORPHAN_AFTER_MS = 10_000;
/** How many orphans one sweep starts at most. */
const ORPHAN_BATCH = 100;

export function createResignationOrchestrator(deps: {
  store: CaseStore;
  participants: Participants;
  retry: RetryPolicy;
  log: Logger;
  /** Cases opened before the instant given whose reactions workflow was never started (cases-without-workflow.ts). */
  withoutReactionsWorkflow: (openedBefore: Date, limit: number) => Promise<CaseDraft[]>;
}) {
  const { store, participants, retry } = deps;

  const reactions: Record<ReactionStep, (draft: CaseDraft) => Promise<Reaction>> = {
    async notifyManager(draft) {
      // Notification's use case decides what the notice is (and that without a manager there is none).
      const notice = await participants.notifyManager(
        {
          resignationId: draft.id,
          employee: { id: draft.employee.id, name: draft.employee.name },
          manager: draft.manager ? { name: draft.manager.name, email: draft.manager.email } : null,
          lastWorkingDay: draft.lastWorkingDay,
          reason: draft.reason,
        },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:notifyManager` },
      );
      if (notice.outcome === 'no manager') {
        return { result: { skipped: 'no manager' }, service: 'notification', type: EventTypes.managerNotified, summary: summaries.noManager(draft.employee.name) };
      }
      const { email } = notice;
      // Done means delivered. Queued: Notification retries SMTP itself; we ask again later (same key).
      if (email.status === 'queued') throw new ServiceCallError(`email accepted, not yet delivered${email.lastError ? `: ${email.lastError}` : ''}`, 202, true);
      if (email.status === 'failed') throw new ServiceCallError(`email could not be delivered: ${email.lastError ?? 'unknown error'}`, undefined, false);
      return {
        result: { emailId: email.id, messageId: email.messageId },
        service: 'notification',
        type: EventTypes.managerNotified,
        summary: summaries.managerNotified(draft.manager?.name ?? email.to),
      };
    },
    async scheduleInterview(draft) {
      const interview = await participants.scheduleInterview(
        { resignationId: draft.id, employeeId: draft.employee.id, lastWorkingDay: draft.lastWorkingDay },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:scheduleInterview` },
      );
      return {
        result: { interviewId: interview.id, start: interview.start, end: interview.end, timezone: interview.timezone, ...(interview.invitesNotSent ? { invitesNotSent: interview.invitesNotSent } : {}) },
        service: 'hr',
        type: EventTypes.exitInterviewScheduled,
        summary: summaries.interviewScheduled(interview.start, interview.timezone, interview.invitesNotSent),
      };
    },
    async suspendAccess(draft) {
      const hold = await participants.suspendAccess(
        { resignationId: draft.id, employeeId: draft.employee.id, reason: 'resignation submitted' },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:suspendAccess` },
      );
      const systems = hold.suspendedGrants.map((g) => g.system);
      return {
        result: { holdId: hold.id, suspended: systems },
        service: 'access',
        type: EventTypes.criticalAccessSuspended,
        summary: summaries.accessSuspended(systems),
      };
    },
  };

  async function reactionsWorkflow(draft: CaseDraft): Promise<{ id: string; status: CaseStatus }> {
    // The three in parallel, each recorded on the case when done; then their failures recorded (in a fixed
    // order) and the case's status settled. What follows waits for a decision: the decision workflow.
    const react = (step: ReactionStep) => ({ step, act: () => reactions[step](draft) });
    const status = await runCaseSteps(store, retry, draft.id, [react('notifyManager'), react('scheduleInterview'), react('suspendAccess')], (outcomes) => recordOutcomesPlainly(store, draft.id, outcomes));
    return { id: draft.id, status };
  }

  const workflow = DBOS.registerWorkflow(reactionsWorkflow, { name: REACTIONS_WORKFLOW_NAME });
  const startWorkflow = (draft: CaseDraft) => DBOS.startWorkflow(workflow, { workflowID: reactionsWorkflowId(draft.id) })(draft);

  return {
    participants,
    /** Opens the case and starts its workflow; a case opened before (a retry) gets its workflow started if it has none. */
    async start(intake: CaseIntake): Promise<OpenOutcome> {
      const opened = await store.open(intake);
      if (opened.outcome !== 'conflict') await startWorkflow(opened.draft);
      return opened;
    },
    /**
     * The case's reactions, as its decision workflow begins: their workflow started if it is not (a workflow of
     * an earlier version, taken over, ran them itself: they run again, doing nothing twice), and awaited. Call
     * it from a workflow (DBOS records the child it started and its result).
     */
    async settled(draft: CaseDraft): Promise<void> {
      await (await startWorkflow(draft)).getResult();
    },
    /** Starts the reactions workflow of every case whose opener died before starting it; how many it started. */
    async startOrphans(now: Date): Promise<number> {
      const orphans = await deps.withoutReactionsWorkflow(new Date(now.getTime() - ORPHAN_AFTER_MS), ORPHAN_BATCH);
      for (const draft of orphans) {
        deps.log.warn({ resignationId: draft.id }, 'case without its workflow (its opener stopped before starting it); starting it now');
        await startWorkflow(draft);
      }
      return orphans.length;
    },
  };
}

export type ResignationOrchestrator = ReturnType<typeof createResignationOrchestrator>;

/**
 * How a case starts in orchestration mode: opened, then its reactions workflow started. The sweeper starts what
 * was left unstarted: the reactions of a case whose opener died, the decision workflow of a case whose first
 * follow-up is due before any decision came.
 */
export function orchestrationStarter(orchestrator: ResignationOrchestrator, decisions: Pick<DecisionOrchestrator, 'startDue'>): CaseStarter {
  return {
    mode: 'orchestration',
    start: (intake) => orchestrator.start(intake),
    startOrphans: async (now) => (await orchestrator.startOrphans(now)) + (await decisions.startDue(now)),
  };
}
