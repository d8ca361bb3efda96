/**
 * HR's follow-up policy, pure: defined once in the contracts (packages/contracts/src/follow-up-policy.ts),
 * since the orchestrator, HR's timer and EMS's follow-up list all apply it. Re-exported for HR's own code.
 */
export {
  DEFAULT_FOLLOW_UP_POLICY,
  followUpKey,
  followUpsCalledFor,
  followUpsDue,
  nextFollowUp,
  type FollowUp,
  type FollowUpFacts,
  type FollowUpLevel,
  type FollowUpPolicy,
  type Milestone,
} from '@ems/contracts/follow-up-policy';
