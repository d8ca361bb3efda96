/*
 * The orchestrated resignation: one durable DBOS workflow per case, its workflow id = the case id.
 *
 *   POST /api/resignations ──open the case (one transaction)──(employee already has an open case)──▶ 409
 *                          ──startWorkflow(caseId)──▶ 201
 *                         ┌──────────────────────────────┼──────────────────────────────┐
 *                  notifyManager                  scheduleInterview                suspendAccess       in parallel, one DBOS
 *         (Notification: notifyManager)              (HR API)                      (Access API)       step; each retried
 *                                                                                                     with backoff
 *                         └──────────────────────────────┼──────────────────────────────┘
 *                                    record failures (in a fixed order), settle the case status
 *                                                        │
 *                                      the case's decision phase (decision.workflow.ts): waits for the
 *                                      decision, follow-ups, then restore or revoke access
 *
 * The request opens the case, then starts its workflow (idempotent on the case id). A process that dies
 * between the two leaves a case without a workflow: `startOrphans` (run by EMS's sweeper, so at start-up
 * and every few seconds, on every replica) starts the workflow of any such case. (Until this version the
 * workflow opened the case itself and the request waited for a DBOS event saying so: measured at ~20
 * statements per case — a step, an event and its polling — for what one transaction does.)
 *
 * Steps are at-least-once: every participant call carries an idempotency key derived from the case,
 * and every write to the case store is idempotent.
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError, type Logger } from '@ems/platform';
import { recordOutcomesInStep, trackedSteps, type Reaction, type RetryPolicy } from './tracked-step.ts';
import type { DecisionOrchestrator } from './decision.workflow.ts';
import type { CaseDraft, CaseIntake, CaseStore, OpenOutcome } from '../resignations/case-store.ts';
import type { ReactionStep } from '../domain/resignation.ts';
import { summaries } from '../domain/summaries.ts';
import { EventTypes } from '@ems/contracts/events';
import type { Participants } from './participants.ts';
import type { CaseStarter } from '../resignations/submit-resignation.ts';

export const WORKFLOW_NAME = 'resignation';
/** A case this much older than its workflow-to-be is an orphan (its opener died before starting it). */
const ORPHAN_AFTER_MS = 10_000;

export function createResignationOrchestrator(deps: {
  store: CaseStore;
  participants: Participants;
  retry: RetryPolicy;
  log: Logger;
  /** The case's decision phase (decision.workflow.ts): where it begins, read as the reactions settle, then the phase itself, run in this workflow; its final status. */
  decisions: Pick<DecisionOrchestrator, 'begin' | 'phase'>;
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

  async function resignationWorkflow(draft: CaseDraft): Promise<{ id: string; status: string }> {
    // The three in parallel, as one DBOS step (see trackedSteps): each recorded on the case when done;
    // then, in the same step, their failures recorded (in a fixed order), the case's status settled, and
    // where the decision phase begins: the case as settled.
    const react = (step: ReactionStep) => ({ step, act: () => reactions[step](draft) });
    const start = await trackedSteps(store, retry, draft.id, 'reactions', [react('notifyManager'), react('scheduleInterview'), react('suspendAccess')], async (outcomes) =>
      deps.decisions.begin(await recordOutcomesInStep(store, draft.id, outcomes)),
    );
    // What follows (follow-ups, the decision, restoring or revoking access) waits days, in this workflow.
    return { id: draft.id, status: await deps.decisions.phase(draft.id, start) };
  }

  const workflow = DBOS.registerWorkflow(resignationWorkflow, { name: WORKFLOW_NAME });
  const startWorkflow = (draft: CaseDraft) => DBOS.startWorkflow(workflow, { workflowID: draft.id })(draft);

  return {
    participants,
    /** Opens the case and starts its workflow; a case opened before (a retry) gets its workflow started if it has none. */
    async start(intake: CaseIntake): Promise<OpenOutcome> {
      const opened = await store.open(intake);
      if (opened.outcome !== 'conflict') await startWorkflow(opened.draft);
      return opened;
    },
    /** Starts the workflow of every case whose opener died before starting it; how many it started. */
    async startOrphans(now: Date): Promise<number> {
      const orphans = await store.casesWithoutWorkflow(new Date(now.getTime() - ORPHAN_AFTER_MS));
      for (const draft of orphans) {
        deps.log.warn({ resignationId: draft.id }, 'case without its workflow (its opener stopped before starting it); starting it now');
        await startWorkflow(draft);
      }
      return orphans.length;
    },
  };
}

export type ResignationOrchestrator = ReturnType<typeof createResignationOrchestrator>;

/** How a case starts in orchestration mode: opened, then its workflow started. */
export function orchestrationStarter(orchestrator: ResignationOrchestrator): CaseStarter {
  return { mode: 'orchestration', start: (intake) => orchestrator.start(intake), startOrphans: (now) => orchestrator.startOrphans(now) };
}
