import { HttpProblem, requireCase, type CaseLookup, type Permit } from '@ems/platform';
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

const refuse = (detail: string, path: string) =>
  new HttpProblem(422, detail, { type: 'https://ems.dev/problems/recipient-not-allowed', title: 'Not an email EMS sends', extra: { errors: [{ path, message: detail }] } });

/**
 * What a caller may ask Notification to send, and to whom, decided here rather than by the caller: the case
 * must exist (EMS says so), the recipient must be the person the purpose names for that case in the
 * directory (the directory's address and name are used), the only link is the case's own page, and the only
 * attachments are HR's calendar invites.
 */
export async function deriveRecipient(rules: RecipientRules, permit: Permit, request: api.SendEmailRequest): Promise<api.SendEmailRequest> {
  const rule = purposeRule(request);
  if (!rule) throw refuse(`purpose ${request.purpose} is not one EMS sends`, 'body.purpose');
  if (request.attachments.length > 0) {
    if (!rule.invite || permit.principal.kind !== 'service' || permit.principal.id !== 'hr') throw refuse("attachments go only with HR's calendar invites", 'body.attachments');
    const other = request.attachments.find((a) => !/^text\/calendar\b/i.test(a.contentType));
    if (other) throw refuse(`an invite carries calendar data only (text/calendar), not ${other.contentType}`, 'body.attachments');
  }
  const kase = await requireCase(rules.cases, request.resignationId);
  const people = await rules.directory.relations(kase.employeeId);
  if (!people) throw refuse(`the employee of resignation ${request.resignationId} is not in the directory`, 'body.resignationId');
  const of = (role: RecipientRole): Contact[] =>
    role === 'manager' ? (people.manager ? [people.manager] : []) : role === 'employee' ? [people.employee] : role === 'hr_partner' ? (people.hrPartner ? [people.hrPartner] : []) : people.hrLeads;
  const allowed = rule.roles.flatMap(of);
  const to = allowed.find((c) => c.email.toLowerCase() === request.to.email.toLowerCase());
  if (!to) {
    const who = rule.roles.map((r) => r.replace('_', ' ')).join(' or ');
    throw refuse(`an email for ${request.purpose} goes to the case's ${who} only${allowed.length ? '' : ' (the directory has none)'}`, 'body.to.email');
  }
  // Every kind sent on request (a rule above) has a caseUrl in its data; the cast keeps the request's own kind.
  const caseUrl = rules.caseUrl ? rules.caseUrl(request.resignationId) : null;
  return { ...request, to: { email: to.email, name: to.name }, data: { ...request.data, caseUrl } } as api.SendEmailRequest;
}
