/*
 * The orchestrated resignation: one durable DBOS workflow per case, its workflow id = the case id.
 *
 *   POST /api/resignations ──startWorkflow(caseId)──▶ openCase ──(employee already has an open case)──▶ end: 409
 *                                                        │ setEvent('intake') → the HTTP request answers 201
 *                         ┌──────────────────────────────┼──────────────────────────────┐
 *                  notifyManager                  scheduleInterview                blockAccess       parallel steps,
 *              (Notification API)                   (HR API)                      (Access API)       retried with backoff
 *                         └──────────────────────────────┼──────────────────────────────┘
 *                                    record failures (in a fixed order), settle the case status
 *                                                        │
 *                                      start the case's decision phase (decision.workflow.ts)
 *
 * Why the workflow opens the case (instead of the HTTP handler): DBOS writes the workflow's status row
 * before running it and recovers it after any crash, so the case is created only by its own workflow —
 * there is never a case without a workflow. The handler checks for an open case first; the rare loser
 * of a race ends its workflow at openCase with outcome 'conflict' and creates nothing.
 *
 * Steps are at-least-once: every participant call carries an idempotency key derived from the case,
 * and every write to the case store is idempotent.
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError, type Logger } from '@ems/platform';
import { recordOutcomes, trackedStep, type Reaction, type RetryPolicy } from './tracked-step.ts';
import type { CaseDraft, CaseStore, OpenOutcome } from '../resignations/case-store.ts';
import type { ReactionStep } from '../domain/resignation.ts';
import { summaries } from '../domain/summaries.ts';
import { EventTypes } from '@ems/contracts/events';
import type { Participants } from './participants.ts';
import type { CaseStarter } from '../resignations/submit-resignation.ts';

export const WORKFLOW_NAME = 'resignation';
const INTAKE_EVENT = 'intake';

export function createResignationOrchestrator(deps: {
  store: CaseStore;
  participants: Participants;
  retry: RetryPolicy;
  caseUrl: (id: string) => string;
  log: Logger;
  /** Starts the case's decision phase (its own workflow) once the reactions have settled. */
  startDecisionPhase: (caseId: string) => Promise<void>;
}) {
  const { store, participants, retry } = deps;

  const reactions: Record<ReactionStep, (draft: CaseDraft) => Promise<Reaction>> = {
    async notifyManager(draft) {
      if (!draft.manager) {
        return { result: { skipped: 'no manager' }, service: 'notification', type: EventTypes.managerNotified, summary: summaries.noManager(draft.employee.name) };
      }
      const email = await participants.sendEmail(
        {
          resignationId: draft.id,
          purpose: 'manager-notice',
          to: { email: draft.manager.email, name: draft.manager.name },
          template: 'resignation-manager-notice',
          data: {
            managerName: draft.manager.name,
            employeeName: draft.employee.name,
            employeeId: draft.employee.id,
            lastWorkingDay: draft.lastWorkingDay,
            reason: draft.reason,
            caseUrl: deps.caseUrl(draft.id),
          },
          attachments: [],
        },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:notifyManager` },
      );
      // Done means delivered. Queued: Notification retries SMTP itself; we ask again later (same key).
      if (email.status === 'queued') throw new ServiceCallError(`email accepted, not yet delivered${email.lastError ? `: ${email.lastError}` : ''}`, 202, true);
      if (email.status === 'failed') throw new ServiceCallError(`email could not be delivered: ${email.lastError ?? 'unknown error'}`, undefined, false);
      return {
        result: { emailId: email.id, messageId: email.messageId },
        service: 'notification',
        type: EventTypes.managerNotified,
        summary: summaries.managerNotified(draft.manager.name),
      };
    },
    async scheduleInterview(draft) {
      const interview = await participants.scheduleInterview(
        { resignationId: draft.id, employeeId: draft.employee.id, lastWorkingDay: draft.lastWorkingDay },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:scheduleInterview` },
      );
      return {
        result: { interviewId: interview.id, start: interview.start, end: interview.end, timezone: interview.timezone },
        service: 'hr',
        type: EventTypes.exitInterviewScheduled,
        summary: summaries.interviewScheduled(interview.start, interview.timezone),
      };
    },
    async blockAccess(draft) {
      const hold = await participants.suspendCriticalAccess(
        { resignationId: draft.id, employeeId: draft.employee.id, reason: 'resignation submitted' },
        { correlationId: draft.correlationId, traceparent: draft.traceparent, idempotencyKey: `${draft.id}:blockAccess` },
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

  async function resignationWorkflow(draft: CaseDraft): Promise<OpenOutcome & { status?: string }> {
    const intake = await DBOS.runStep(() => store.open(draft), { name: 'openCase', retriesAllowed: true, maxAttempts: 5, intervalSeconds: 0.2 });
    await DBOS.setEvent(INTAKE_EVENT, intake);
    if (intake.outcome === 'conflict') return intake;

    const react = (step: ReactionStep) => trackedStep(store, retry, draft.id, step, () => reactions[step](draft));
    const outcomes = await Promise.all([react('notifyManager'), react('scheduleInterview'), react('blockAccess')]);
    const status = await recordOutcomes(store, draft.id, outcomes, 'settle');
    // What follows (follow-ups, the decision, restoring or revoking access) waits days: its own workflow.
    await deps.startDecisionPhase(draft.id);
    return { ...intake, status };
  }

  const workflow = DBOS.registerWorkflow(resignationWorkflow, { name: WORKFLOW_NAME });

  return {
    participants,
    /**
     * Starts the case's workflow (idempotent on the case id) and waits until it has opened the case.
     * 'pending' when the workflow has not got that far in time; it will, since it is durable.
     */
    async start(draft: CaseDraft, waitSeconds = 10): Promise<OpenOutcome | 'pending'> {
      await DBOS.startWorkflow(workflow, { workflowID: draft.id })(draft);
      const intake = await DBOS.getEvent<OpenOutcome>(draft.id, INTAKE_EVENT, waitSeconds);
      if (intake) return intake;
      // Not opened in time: still running (busy system → 202), or it failed — then say so, never "accepted".
      const status = await DBOS.getWorkflowStatus(draft.id);
      if (status?.status === 'ERROR' || status?.status === 'CANCELLED' || status?.status === 'MAX_RECOVERY_ATTEMPTS_EXCEEDED') {
        throw new Error(`the case workflow ${draft.id} ended with ${status.status} before opening the case`);
      }
      return 'pending';
    },
  };
}

export type ResignationOrchestrator = ReturnType<typeof createResignationOrchestrator>;

/** How a case starts in orchestration mode: its workflow opens it. */
export function orchestrationStarter(orchestrator: ResignationOrchestrator): CaseStarter {
  return { mode: 'orchestration', start: (draft) => orchestrator.start(draft) };
}
