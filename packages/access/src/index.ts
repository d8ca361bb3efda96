export { createAccessService, ACCESS_SCHEMA, type AccessServiceDeps } from './access.service.ts';
export { planHold, planRelease, type GrantChange, type GrantState, type GrantStatus, type HeldGrant, type ReleasePlan, type SystemCriticality } from './domain/hold.ts';
