import { parseDecisionNoticePurpose } from '../domain/decision-notice.ts';

/**
 * Whom an email of a purpose may go to — derived, never taken from the caller. The caller names the case
 * and the purpose; the directory says who the case's manager, employee, HR partner and HR lead are.
 *
 *   manager-notice                       → the employee's manager
 *   decision-notice:<d>:<rev>:<audience> → the manager or the employee, as the purpose says
 *   interview-invite:… / interview-cancelled:… → the employee or their HR partner (the one attachment path)
 *   follow-up:<milestone>.reminder       → the HR partner
 *   follow-up:<milestone>.escalation     → an HR lead
 */
export type RecipientRole = 'manager' | 'employee' | 'hr_partner' | 'hr_lead';

export interface PurposeRule {
  roles: RecipientRole[];
  /** Calendar invites: attachments allowed (text/calendar), and only from HR. */
  invite: boolean;
}

export function purposeRule(purpose: string): PurposeRule | undefined {
  if (purpose === 'manager-notice') return { roles: ['manager'], invite: false };
  const decision = parseDecisionNoticePurpose(purpose);
  if (decision) return { roles: [decision.audience], invite: false };
  if (/^interview-(invite|cancelled):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\d{1,6}$/.test(purpose)) return { roles: ['employee', 'hr_partner'], invite: true };
  const followUp = /^follow-up:(interview_scheduled|interview_held|decision)\.(reminder|escalation)$/.exec(purpose);
  if (followUp) return { roles: [followUp[2] === 'reminder' ? 'hr_partner' : 'hr_lead'], invite: false };
  return undefined;
}
