/**
 * Who may do what: the one policy table. Every operation of every service's API has exactly one row
 * here (keyed by its OpenAPI operationId); a route without a row does not start. The table is data:
 * the identity package evaluates it for each request, the HTTP server renders it into the OpenAPI
 * document, the README renders it as a table, and the role-matrix test derives its expectations from it.
 *
 * - A *role* grants an operation on some *rows*: the rows about the caller themselves (`own`), about their
 *   direct reports (`reports`), about the employees assigned to them as HR partner (`assigned`), or `all`.
 *   Relationship roles (employee, manager, hr_partner) come from EMS's directory; administrative roles
 *   (hr_lead, access_admin, operator) from the directory's role assignments or, with an external identity
 *   provider, from a mapped groups claim. Never from the caller.
 * - A grant may give a `summary` view: the route leaves out what that role must not read (a manager sees a
 *   case's status and dates, not the reason, the decision note or the interview notes).
 * - *Service identities* (OAuth client credentials, one per service) call the internal operations; a user's
 *   token never does, and a service's token only reaches the operations its identity is listed on.
 * - A row the caller may not see answers exactly like an unknown one (404), so ids cannot be probed; an
 *   operation no role of the caller grants answers 403 naming the permission (the operationId).
 */

export const ROLES = ['employee', 'manager', 'hr_partner', 'hr_lead', 'access_admin', 'operator'] as const;
export type Role = (typeof ROLES)[number];
/** The roles an identity provider's groups claim may grant; the others follow from the directory's relationships. */
export const ADMIN_ROLES = ['hr_lead', 'access_admin', 'operator'] as const satisfies readonly Role[];
export type AdminRole = (typeof ADMIN_ROLES)[number];

/**
 * Services that call other services, each with its own client credentials. `provisioning` is not a service of
 * EMS: it is the identity provider or HR system that provisions the directory over SCIM (a provisioning token an
 * operator creates, or the provider's own client credentials for the client `<prefix>provisioning`).
 */
export const SERVICE_IDENTITIES = ['ems', 'notification', 'hr', 'access', 'webhooks', 'extensions', 'identity', 'provisioning'] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

export type Rows = 'own' | 'reports' | 'assigned' | 'all';
export type View = 'full' | 'summary';

export interface RoleGrant {
  role: Role;
  rows: Rows;
  /** Default `full`. */
  view?: View;
}

export interface OperationPolicy {
  /** The service that serves the operation: a service token must be issued for its audience. */
  service: ServiceIdentity;
  /** One line, for the README and the OpenAPI document. */
  what: string;
  roles: readonly RoleGrant[];
  /** Service identities that may call it (internal operations). */
  services?: readonly ServiceIdentity[];
  /** What a `summary` view leaves out. */
  summary?: string;
  /** Any authenticated caller, person or service, with or without a role (e.g. "who am I"). */
  anyAuthenticated?: boolean;
}

const own = (role: Role, view?: View): RoleGrant => ({ role, rows: 'own', ...(view ? { view } : {}) });
const all = (role: Role, view?: View): RoleGrant => ({ role, rows: 'all', ...(view ? { view } : {}) });
const reports = (view?: View): RoleGrant => ({ role: 'manager', rows: 'reports', ...(view ? { view } : {}) });
const assigned = (view?: View): RoleGrant => ({ role: 'hr_partner', rows: 'assigned', ...(view ? { view } : {}) });
const everyone: RoleGrant[] = ROLES.map((r) => all(r));

const CASE_SUMMARY = 'the reason, the decision note and notes in the timeline';
/** Who reads a case: the employee, their manager (status and dates), their HR partner, HR lead, IT and operators (no reason or notes). */
const caseReaders: RoleGrant[] = [own('employee'), reports('summary'), assigned(), all('hr_lead'), all('access_admin', 'summary'), all('operator', 'summary')];
/** Access details: IT and HR. */
const accessReaders: RoleGrant[] = [all('access_admin'), all('hr_lead'), assigned()];
/** The directory over SCIM: the administrators (besides the provisioning client). */
const scimReaders: RoleGrant[] = [all('hr_lead'), all('access_admin'), all('operator')];
/** The mailbox: everyone their own address's messages (managers are employees; HR partners and the lead are not), the operator every message. */
const mailboxReaders: RoleGrant[] = [own('employee'), own('hr_partner'), own('hr_lead'), own('access_admin'), all('operator')];

export const POLICY = {
  // EMS: resignations
  submitResignation: {
    service: 'ems',
    what: 'Submit a resignation',
    roles: [own('employee'), assigned(), all('hr_lead')],
  },
  listResignations: { service: 'ems', what: 'List resignations', roles: caseReaders, summary: CASE_SUMMARY },
  getResignation: { service: 'ems', what: 'Read a case', roles: caseReaders, services: ['notification', 'hr', 'access'], summary: CASE_SUMMARY },
  getResignationTimeline: { service: 'ems', what: "Read a case's timeline", roles: caseReaders, summary: CASE_SUMMARY },
  decideResignation: { service: 'ems', what: 'Decide a case: retained or exit confirmed', roles: [assigned(), all('hr_lead')] },
  withdrawResignation: { service: 'ems', what: 'Withdraw a resignation', roles: [own('employee'), all('hr_lead')] },
  getExitReport: { service: 'ems', what: 'Read the exit report: exits by month, department and reason', roles: [all('hr_lead')] },
  listFollowUps: { service: 'ems', what: 'List the reminders and escalations (sent, skipped, due, upcoming) of the cases awaiting a decision', roles: [assigned(), all('hr_lead')] },
  watchUpdates: { service: 'ems', what: 'Follow live updates (server-sent events) of the cases they may read; dead letters for operators', roles: caseReaders },
  // EMS: events
  listDeadLetters: { service: 'ems', what: 'List dead-lettered events', roles: [all('operator')] },
  getDeadLetter: { service: 'ems', what: 'Read a dead letter', roles: [all('operator')] },
  replayDeadLetter: { service: 'ems', what: 'Replay a dead letter', roles: [all('operator')] },
  listExtensions: { service: 'ems', what: 'List the loaded extensions: what each subscribes to, publishes and adds', roles: [all('operator')] },
  // EMS: involuntary and mass exits (HR ends employments: every grant suspended at once, then manager and employee told)
  startInvoluntaryExits: { service: 'ems', what: 'Start involuntary exits: one person or a mass exit (JSON or CSV), one case each', roles: [all('hr_lead')] },
  getExitBatch: { service: 'ems', what: "Read an involuntary exit batch's progress and its cases", roles: [all('hr_lead')] },
  listExitBatches: { service: 'ems', what: 'List the involuntary exit batches, newest first', roles: [all('hr_lead')] },

  // HR: directory and interviews
  listEmployees: { service: 'hr', what: 'Search the people directory', roles: everyone },
  getEmployee: { service: 'hr', what: 'Read one person of the directory', roles: everyone },
  listHrPartners: { service: 'hr', what: 'List HR partners', roles: everyone },
  getHrPartner: { service: 'hr', what: 'Read one HR partner', roles: everyone, services: ['ems'] },
  listInterviews: {
    service: 'hr',
    what: 'List exit interviews',
    roles: [own('employee', 'summary'), assigned(), all('hr_lead')],
    services: ['ems'],
    summary: 'the interview notes',
  },
  getInterview: {
    service: 'hr',
    what: 'Read an exit interview',
    roles: [own('employee', 'summary'), assigned(), all('hr_lead')],
    services: ['ems'],
    summary: 'the interview notes',
  },
  scheduleInterview: { service: 'hr', what: 'Book the exit interview of a case', roles: [], services: ['ems'] },
  rescheduleInterview: { service: 'hr', what: 'Move an exit interview', roles: [assigned(), all('hr_lead')] },
  markInterviewHeld: { service: 'hr', what: 'Mark an exit interview held, with notes', roles: [assigned(), all('hr_lead')] },
  cancelInterview: { service: 'hr', what: 'Cancel an exit interview', roles: [assigned(), all('hr_lead')], services: ['ems'] },
  cancelInterviewOnClose: { service: 'hr', what: "Cancel a retained or withdrawn case's exit interview (the orchestrator's command)", roles: [], services: ['ems'] },
  followUpExitProcess: { service: 'hr', what: "Send a case's follow-up whose deadline passed, if HR finds it still due (the orchestrator's command)", roles: [], services: ['ems'] },

  // Access
  suspendAccess: { service: 'access', what: "Suspend an employee's critical access for a case", roles: [], services: ['ems'] },
  releaseAccessHold: { service: 'access', what: 'Lift an access hold, restoring what it suspended', roles: [], services: ['ems'] },
  restoreAccess: { service: 'access', what: "Restore a retained or withdrawn case's access (lift its hold), or record that it had none (the orchestrator's command)", roles: [], services: ['ems'] },
  listAccessHolds: { service: 'access', what: 'List access holds', roles: accessReaders },
  getAccessHold: { service: 'access', what: 'Read an access hold', roles: accessReaders },
  getEmployeeAccess: { service: 'access', what: "Read an employee's grants and their status", roles: accessReaders },
  revokeAccess: { service: 'access', what: "Revoke an exiting employee's access, now or at a given instant", roles: [all('access_admin')], services: ['ems'] },
  listAccessRevocations: { service: 'access', what: 'List access revocations', roles: accessReaders },
  getAccessRevocation: { service: 'access', what: 'Read an access revocation', roles: accessReaders },
  listAccessAudit: { service: 'access', what: 'Read the access audit', roles: [all('access_admin'), all('operator')] },
  verifyAccessAudit: { service: 'access', what: "Check the access audit's hash chain", roles: [all('access_admin'), all('operator')] },
  runAccessReconciliation: { service: 'access', what: 'Compare every connected system with what Access believes, now', roles: [all('access_admin'), all('operator')] },
  listAccessDrifts: { service: 'access', what: 'List the drifts reconciliations found between connected systems and Access', roles: [all('access_admin'), all('operator')] },
  listSystems: { service: 'access', what: 'List the systems access is granted to', roles: everyone },
  suspendAccessForExit: { service: 'access', what: 'Suspend every grant of a chunk of involuntary exits and schedule their revocation', roles: [], services: ['ems'] },

  // Notification
  sendEmail: { service: 'notification', what: 'Send an email about a case', roles: [], services: ['ems', 'hr'] },
  sendEmails: { service: 'notification', what: 'Send several emails about cases in one request', roles: [], services: ['ems', 'hr'] },
  notifyManager: { service: 'notification', what: "Tell a resigning employee's manager (the orchestrator's command)", roles: [], services: ['ems'] },
  announceDecision: { service: 'notification', what: "Tell the manager and the employee how a resignation was decided (the orchestrator's command)", roles: [], services: ['ems'] },
  sendExitNotices: { service: 'notification', what: 'Tell the managers and employees of a chunk of involuntary exits (after their access is suspended)', roles: [], services: ['ems'] },
  listEmails: { service: 'notification', what: 'List emails sent', roles: [all('operator')] },
  getEmail: { service: 'notification', what: 'Read an email sent', roles: [all('operator')] },
  listMailbox: { service: 'notification', what: 'Read the mailbox of captured mail (embedded default): messages to their own address', roles: mailboxReaders },
  getMailboxMessage: { service: 'notification', what: 'Read one captured message (embedded default), if it was delivered to their own address', roles: mailboxReaders },

  // Webhooks
  registerWebhook: { service: 'webhooks', what: 'Register a webhook', roles: [all('operator')] },
  listWebhooks: { service: 'webhooks', what: 'List webhooks', roles: [all('operator')] },
  getWebhook: { service: 'webhooks', what: 'Read a webhook', roles: [all('operator')] },
  deleteWebhook: { service: 'webhooks', what: 'Delete a webhook', roles: [all('operator')] },
  listWebhookDeliveries: { service: 'webhooks', what: "List a webhook's deliveries", roles: [all('operator')] },

  // Identity
  getMe: { service: 'identity', what: 'Who am I: my person, roles and relationships', roles: [], anyAuthenticated: true },
  createApiToken: { service: 'identity', what: 'Create an API token for automation (shown once)', roles: [all('operator')] },
  listApiTokens: { service: 'identity', what: 'List API tokens (never their secret)', roles: [all('operator')] },
  revokeApiToken: { service: 'identity', what: 'Revoke an API token', roles: [all('operator')] },
  rotateSigningKeys: { service: 'identity', what: "Rotate the built-in identity provider's signing key", roles: [all('operator')] },
  // The HR lead: who works here, for whom and with which HR partner is HR's to say (the export is theirs). The
  // operator: runs it unattended (an API token acting as them, e.g. a nightly import). Nobody else: an import
  // can change anyone's manager and HR partner and give administrative roles, so it is as strong as both.
  importPeople: { service: 'identity', what: 'Import people from a CSV file into the directory (or a dry run of it)', roles: [all('hr_lead'), all('operator')] },

  // SCIM (/scim/v2): an identity provider or HR system provisions the directory as the `provisioning` service
  // identity, never as a person. Reading the directory this way is also open to the administrators (who read
  // it in EMS anyway); writing is the provisioning client's only. Discovery: any signed-in caller.
  scimListUsers: { service: 'identity', what: 'SCIM: list and search the directory as Users', roles: scimReaders, services: ['provisioning'] },
  scimGetUser: { service: 'identity', what: 'SCIM: read a User', roles: scimReaders, services: ['provisioning'] },
  scimCreateUser: { service: 'identity', what: 'SCIM: add a person to the directory', roles: [], services: ['provisioning'] },
  scimReplaceUser: { service: 'identity', what: "SCIM: replace a person's record", roles: [], services: ['provisioning'] },
  scimPatchUser: { service: 'identity', what: "SCIM: change a person's record (PATCH)", roles: [], services: ['provisioning'] },
  scimDeleteUser: { service: 'identity', what: 'SCIM: deactivate a person (never deleted)', roles: [], services: ['provisioning'] },
  scimListGroups: { service: 'identity', what: 'SCIM: list the administrative roles as Groups', roles: scimReaders, services: ['provisioning'] },
  scimGetGroup: { service: 'identity', what: 'SCIM: read a Group (a role and who holds it)', roles: scimReaders, services: ['provisioning'] },
  scimPatchGroup: { service: 'identity', what: 'SCIM: give or take an administrative role (Group members)', roles: [], services: ['provisioning'] },
  scimReplaceGroup: { service: 'identity', what: 'SCIM: set who holds an administrative role', roles: [], services: ['provisioning'] },
  scimCreateGroup: { service: 'identity', what: 'SCIM: create a Group (always refused: the Groups are the fixed roles)', roles: [], services: ['provisioning'] },
  scimDeleteGroup: { service: 'identity', what: 'SCIM: delete a Group (always refused: the Groups are the fixed roles)', roles: [], services: ['provisioning'] },
  scimGetServiceProviderConfig: { service: 'identity', what: "SCIM: the service provider's configuration", roles: [], anyAuthenticated: true },
  scimListResourceTypes: { service: 'identity', what: 'SCIM: the resource types', roles: [], anyAuthenticated: true },
  scimGetResourceType: { service: 'identity', what: 'SCIM: one resource type', roles: [], anyAuthenticated: true },
  scimListSchemas: { service: 'identity', what: 'SCIM: the schemas', roles: [], anyAuthenticated: true },
  scimGetSchema: { service: 'identity', what: 'SCIM: one schema', roles: [], anyAuthenticated: true },
  // The provisioning client's credential: made, listed and revoked by an operator (shown once).
  createProvisioningToken: { service: 'identity', what: 'Create a provisioning token for a SCIM client (shown once)', roles: [all('operator')] },
  listProvisioningTokens: { service: 'identity', what: 'List provisioning tokens (never their secret)', roles: [all('operator')] },
  revokeProvisioningToken: { service: 'identity', what: 'Revoke a provisioning token', roles: [all('operator')] },
} as const satisfies Record<string, OperationPolicy>;

export type CoreOperation = keyof typeof POLICY;
export type PolicyTable = Readonly<Record<string, OperationPolicy>>;

/** The rows a role's grant reaches, in words (README, OpenAPI). */
export function describeGrant(g: RoleGrant): string {
  const rows = { own: 'their own', reports: "their reports'", assigned: 'assigned employees', all: 'all' }[g.rows];
  return `${g.role} (${rows}${g.view === 'summary' ? ', summary' : ''})`;
}

/** One line: who may call an operation. */
export function describePolicy(p: OperationPolicy): string {
  const parts = p.roles.map(describeGrant);
  if (p.services?.length) parts.push(`service ${p.services.join(', ')}`);
  if (p.anyAuthenticated) parts.push('any signed-in caller');
  return parts.join('; ') || 'nobody';
}
