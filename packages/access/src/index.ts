export { createAccessService, ACCESS_SCHEMA, type AccessServiceDeps } from './access.service.ts';
export { SUSPEND_ACCESS_SUBSCRIBER, HOLD_REASON } from './create-hold/suspend-access-when-resignation-submitted.ts';
export { planHold, planRelease, type GrantChange, type GrantState, type GrantStatus, type HeldGrant, type ReleasePlan, type SystemCriticality } from './domain/hold.ts';
