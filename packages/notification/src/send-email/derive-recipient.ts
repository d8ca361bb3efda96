import { refuse, requireCase, type CaseLookup, type Permit } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { purposeRule, type RecipientRole } from './recipients.ts';

/** The directory's view of an employee's people (the identity directory; see @ems/identity createDirectoryReader). */
export interface RecipientDirectory {
  relations(employeeId: string): Promise<
    | {
        employee: Contact;
        manager: Contact | null;
        hrPartner: Contact | null;
        hrLeads: Contact[];
      }
    | undefined
  >;
}
interface Contact {
  id: string;
  name: string;
  email: string;
}

export interface RecipientRules {
  cases: CaseLookup;
  directory: RecipientDirectory;
  /** The one link an email about a case may carry: the case's page in EMS (none when unset). */
  caseUrl: ((resignationId: string) => string) | undefined;
}

const notSent = (detail: string, path: string) =>
  refuse.notAllowed(detail, { type: 'https://ems.dev/problems/recipient-not-allowed', title: 'Not an email EMS sends', issues: [{ path, message: detail }] });

/**
 * What a caller may ask Notification to send, and to whom, decided here rather than by the caller: the case
 * must exist (EMS says so), the recipient must be the person the purpose names for that case in the
 * directory (the directory's address and name are used), the only link is the case's own page, and the only
 * attachments are HR's calendar invites. `at` is where the email sits in the request body, for naming what is refused.
 */
export async function deriveRecipient(rules: RecipientRules, permit: Permit, request: api.SendEmailRequest, at = 'body'): Promise<api.SendEmailRequest> {
  const rule = purposeRule(request);
  if (!rule) throw notSent(`purpose ${request.purpose} is not one EMS sends`, `${at}.purpose`);
  if (request.attachments.length > 0) {
    if (!rule.invite || permit.principal.kind !== 'service' || permit.principal.id !== 'hr') throw notSent("attachments go only with HR's calendar invites", `${at}.attachments`);
    const other = request.attachments.find((a) => !/^text\/calendar\b/i.test(a.contentType));
    if (other) throw notSent(`an invite carries calendar data only (text/calendar), not ${other.contentType}`, `${at}.attachments`);
  }
  const kase = await requireCase(rules.cases, request.resignationId);
  const people = await rules.directory.relations(kase.employeeId);
  if (!people) throw notSent(`the employee of resignation ${request.resignationId} is not in the directory`, `${at}.resignationId`);
  const of = (role: RecipientRole): Contact[] =>
    role === 'manager' ? (people.manager ? [people.manager] : []) : role === 'employee' ? [people.employee] : role === 'hr_partner' ? (people.hrPartner ? [people.hrPartner] : []) : people.hrLeads;
  const allowed = rule.roles.flatMap(of);
  const to = allowed.find((c) => c.email.toLowerCase() === request.to.email.toLowerCase());
  if (!to) {
    const who = rule.roles.map((r) => r.replace('_', ' ')).join(' or ');
    throw notSent(`an email for ${request.purpose} goes to the case's ${who} only${allowed.length ? '' : ' (the directory has none)'}`, `${at}.to.email`);
  }
  // Every kind sent on request (a rule above) has a caseUrl in its data; the cast keeps the request's own kind.
  const caseUrl = rules.caseUrl ? rules.caseUrl(request.resignationId) : null;
  return { ...request, to: { email: to.email, name: to.name }, data: { ...request.data, caseUrl } } as api.SendEmailRequest;
}
