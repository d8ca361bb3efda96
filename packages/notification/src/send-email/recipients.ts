import type { notification as api } from '@ems/contracts';

/**
 * Whom an email of a kind may go to — derived, never taken from the caller. The caller names the case
 * and the kind (template, typed data, and the purpose they name); the directory says who the case's
 * manager, employee, HR partner and HR lead are. Read from the typed request, never from its purpose.
 *
 *   resignation-manager-notice                     → the employee's manager
 *   resignation-decision-notice (data.audience)    → the manager or the employee
 *   exit-interview-invite / -cancelled             → the employee or their HR partner (the one attachment path)
 *   exit-follow-up (data.level)                    → the HR partner (reminder), an HR lead (escalation)
 *   anything else (drift alerts, exit notices)     → not sent on request: Notification sends them itself
 */
export type RecipientRole = 'manager' | 'employee' | 'hr_partner' | 'hr_lead';

export interface PurposeRule {
  roles: RecipientRole[];
  /** Calendar invites: attachments allowed (text/calendar), and only from HR. */
  invite: boolean;
}

export function purposeRule(request: api.SendEmailRequest): PurposeRule | undefined {
  switch (request.template) {
    case 'resignation-manager-notice':
      return { roles: ['manager'], invite: false };
    case 'resignation-decision-notice':
      return { roles: [request.data.audience], invite: false };
    case 'exit-interview-invite':
    case 'exit-interview-cancelled':
      return { roles: ['employee', 'hr_partner'], invite: true };
    case 'exit-follow-up':
      return { roles: [request.data.level === 'reminder' ? 'hr_partner' : 'hr_lead'], invite: false };
    default:
      return undefined;
  }
}
