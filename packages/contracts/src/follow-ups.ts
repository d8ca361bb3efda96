import { z } from 'zod';
import { EmployeeId, IsoDateTime, ListOf, PageQuery, Uuid } from './common.ts';
import { CaseStatus } from './ems.ts';

/**
 * Follow-ups of the cases still awaiting a decision: the reminders (to the HR partner) and escalations (to
 * the HR lead) the follow-up policy calls for, each sent, skipped (HR recorded it without an email: nobody
 * to send it to, or Notification refused it), due (its deadline passed, nothing recorded yet) or upcoming —
 * the HR inbox's "reminders and escalations due". Same policy in both modes (packages/hr/src/
 * domain/follow-ups.ts); answered by EMS from what it knows of each case (the submission, the interview as
 * booked, a held interview once HR reported it, the decision, the follow-ups HR sent or skipped), asking no
 * other service.
 */
export { FollowUpPaths } from './paths.ts';

export const FollowUpMilestone = z.enum(['interview_scheduled', 'interview_held', 'decision']);
export const FollowUpLevel = z.enum(['reminder', 'escalation']);
/** `skipped`: past its deadline, but HR sent no email and will not (its reason in `reason`); never `due`. */
export const FollowUpState = z.enum(['sent', 'skipped', 'due', 'upcoming']);

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
  /** When HR recorded it without an email (state `skipped`). */
  skippedAt: IsoDateTime.nullable(),
  /** Why HR sent none (state `skipped`): e.g. the HR partner has no HR lead to escalate to, or Notification refused the email. */
  reason: z.string().nullable(),
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
    /** The ones HR recorded (sent or skipped) first, then the rest; each group by due instant. */
    followUps: z.array(FollowUp),
  })
  .meta({ id: 'CaseFollowUps' });
export type CaseFollowUps = z.infer<typeof CaseFollowUps>;

export const FollowUpList = ListOf(CaseFollowUps).meta({ id: 'FollowUpList' });
export type FollowUpList = z.infer<typeof FollowUpList>;
