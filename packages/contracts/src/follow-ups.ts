import { z } from 'zod';
import { EmployeeId, IsoDateTime, ListOf, PageQuery, Uuid } from './common.ts';
import { CaseStatus } from './ems.ts';

/**
 * Follow-ups of the cases still awaiting a decision: the reminders (to the HR partner) and escalations (to
 * the HR lead) the follow-up policy calls for, each sent, due (its deadline passed, not sent yet) or
 * upcoming — the HR inbox's "reminders and escalations due". Same policy in both modes (packages/hr/src/
 * domain/follow-ups.ts); answered by EMS from what it knows of each case (the submission, the interview as
 * booked, a held interview once HR reported it, the decision, the follow-ups sent), asking no other service.
 */
export { FollowUpPaths } from './paths.ts';

export const FollowUpMilestone = z.enum(['interview_scheduled', 'interview_held', 'decision']);
export const FollowUpLevel = z.enum(['reminder', 'escalation']);
export const FollowUpState = z.enum(['sent', 'due', 'upcoming']);

export const FollowUpListQuery = PageQuery.extend({
  resignationId: Uuid.optional(),
  /** Only cases with a follow-up in this state (e.g. `due`: a deadline passed and nobody has been told yet). */
  state: FollowUpState.optional(),
});
export type FollowUpListQuery = z.infer<typeof FollowUpListQuery>;

export const FollowUp = z.object({
  milestone: FollowUpMilestone,
  level: FollowUpLevel,
  /** The deadline (a reminder), or the deadline plus the escalation delay (an escalation). */
  dueAt: IsoDateTime,
  state: FollowUpState,
  /** When it was sent (state `sent`). */
  sentAt: IsoDateTime.nullable(),
});
export type FollowUp = z.infer<typeof FollowUp>;

export const CaseFollowUps = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    employeeName: z.string(),
    hrPartnerId: z.string(),
    status: CaseStatus,
    submittedAt: IsoDateTime,
    /** Sent ones first, then the rest by due instant. */
    followUps: z.array(FollowUp),
  })
  .meta({ id: 'CaseFollowUps' });
export type CaseFollowUps = z.infer<typeof CaseFollowUps>;

export const FollowUpList = ListOf(CaseFollowUps).meta({ id: 'FollowUpList' });
export type FollowUpList = z.infer<typeof FollowUpList>;
