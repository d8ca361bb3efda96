import type { Resignation } from '../../api/ems.ts';

export type StepName = keyof Resignation['steps'];
export type Step = NonNullable<Resignation['steps'][StepName]>;

/** The case's steps in the order they happen: the three first reactions, then what the decision sets off. */
export const STEP_ORDER: readonly StepName[] = ['notifyManager', 'scheduleInterview', 'suspendAccess', 'announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'];
export const FIRST_STEPS: readonly StepName[] = ['notifyManager', 'scheduleInterview', 'suspendAccess'];
export const DECISION_STEPS: readonly StepName[] = ['announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'];

export const STEP_WORDS: Record<StepName, string> = {
  notifyManager: 'Tell the manager',
  scheduleInterview: 'Book the exit interview',
  suspendAccess: 'Suspend critical access',
  announceDecision: 'Announce the decision',
  restoreAccess: 'Restore access',
  cancelInterview: 'Cancel the interview',
  revokeAccess: 'Revoke all access',
};

/** The service that carries each step out (and, in choreography, publishes its outcome). */
export const STEP_SERVICE: Record<StepName, string> = {
  notifyManager: 'notification',
  scheduleInterview: 'hr',
  suspendAccess: 'access',
  announceDecision: 'notification',
  restoreAccess: 'access',
  cancelInterview: 'hr',
  revokeAccess: 'access',
};

export const SERVICE_WORDS: Record<string, string> = {
  ems: 'EMS (intake and tracking)',
  notification: 'Notification',
  hr: 'HR',
  access: 'Access',
  assets: 'IT asset recovery',
  webhooks: 'Webhooks',
  identity: 'Directory',
};

export function stepsOf(r: Resignation): Array<[StepName, Step]> {
  return STEP_ORDER.flatMap((name) => {
    const s = r.steps[name];
    return s ? [[name, s] as [StepName, Step]] : [];
  });
}

/** Steps late or failed: what makes a case stuck. */
export const troubled = (r: Resignation) => stepsOf(r).filter(([, s]) => s.status === 'late' || s.status === 'failed');
