import { AccessRevoked, EventTypes } from '@ems/contracts/events';
import type { Logger } from '@ems/platform';
import type { Subscription } from '@ems/eventbus';
import type { DecisionOrchestrator } from './decision.workflow.ts';

export const END_WAIT_WHEN_ACCESS_REVOKED_SUBSCRIBER = 'ems.end-wait-when-access-revoked';

/**
 * Orchestration: Access revoked an employee's access → the case's workflow hears of it, so a case whose
 * access was revoked before the end of the last working day (IT's "revoke now") moves on at once
 * instead of waiting for the schedule. Access knows nothing of the process: it publishes what it did,
 * in both modes, and this subscriber is how the orchestrator listens.
 *
 * Idempotent: the message is sent once per event (its id keys the send), and a workflow that has ended
 * — the usual case, when the revocation was the workflow's own at the end of the day — gets nothing.
 * If the message never arrives (dead-lettered), the workflow's timer still ends the wait on schedule,
 * and Access answers that revocation with the one already done.
 */
export function endWaitWhenAccessRevoked(deps: { decisions: Pick<DecisionOrchestrator, 'accessRevoked'>; launched: () => boolean; log: Logger }): Subscription {
  return {
    name: END_WAIT_WHEN_ACCESS_REVOKED_SUBSCRIBER,
    types: [EventTypes.accessRevoked],
    async handle(event) {
      const { resignationId } = AccessRevoked.parse(event.data);
      // The bus starts before the workflow engine: a transient error, so the bus delivers it again.
      if (!deps.launched()) throw new Error('the workflow engine is not launched yet');
      if (await deps.decisions.accessRevoked(resignationId, event.id)) {
        deps.log.info({ resignationId, eventId: event.id }, "access revoked: the case's workflow told");
      }
    },
  };
}
