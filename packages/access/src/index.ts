export { createAccessService, ACCESS_SCHEMA, type AccessServiceDeps } from './access.service.ts';
export { SUSPEND_ACCESS_SUBSCRIBER, HOLD_REASON } from './create-hold/suspend-access-when-resignation-submitted.ts';
export { LIFT_HOLD_SUBSCRIBER } from './release-hold/lift-hold-when-resignation-closed.ts';
export { SCHEDULE_REVOCATION_SUBSCRIBER } from './revoke-access/schedule-revocation-when-exit-confirmed.ts';
export { planHold, planRelease, type GrantChange, type GrantState, type GrantStatus, type HeldGrant, type ReleasePlan, type SkippedGrant, type SystemCriticality } from './domain/hold.ts';
export { planRevocation, decideReschedule, isDue, type RescheduleDecision } from './domain/revocation.ts';
