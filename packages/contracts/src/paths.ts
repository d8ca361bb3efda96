/**
 * The API's paths, one place per service, without zod: the web app imports these at run time, and the
 * schemas (the services' modules) only as types, so the browser never downloads the validators.
 */

export const AccessPaths = {
  holds: '/api/access-holds',
  hold: (id: string) => `/api/access-holds/${encodeURIComponent(id)}`,
  release: (id: string) => `/api/access-holds/${encodeURIComponent(id)}/release`,
  /** The orchestrator's command (service ems): lift a closed case's hold, whichever it is (or record none). */
  lifts: '/api/access-holds/lifts',
  employeeAccess: (employeeId: string) => `/api/employees/${encodeURIComponent(employeeId)}/access`,
  audit: '/api/access-audit',
  auditVerification: '/api/access-audit/verification',
  systems: '/api/systems',
  revocations: '/api/access-revocations',
  revocation: (id: string) => `/api/access-revocations/${encodeURIComponent(id)}`,
  /** Drift detection: run a reconciliation now (POST), list the drifts found (GET). */
  reconciliations: '/api/access/reconciliations',
  drifts: '/api/access/drifts',
  /** Involuntary exits (orchestration's command, service ems): suspend every grant of a chunk's people. */
  exitSuspensions: '/api/access/exit-suspensions',
} as const;

export const EmsPaths = {
  resignations: '/api/resignations',
  resignation: (id: string) => `/api/resignations/${encodeURIComponent(id)}`,
  timeline: (id: string) => `/api/resignations/${encodeURIComponent(id)}/timeline`,
  decision: (id: string) => `/api/resignations/${encodeURIComponent(id)}/decision`,
  withdrawal: (id: string) => `/api/resignations/${encodeURIComponent(id)}/withdrawal`,
  /** Involuntary and mass exits: POST starts a batch (JSON or text/csv), GET lists the batches (newest first); GET one reads its progress. */
  exits: '/api/exits',
  exit: (batchId: string) => `/api/exits/${encodeURIComponent(batchId)}`,
} as const;

/** The HR inbox's follow-ups (answered by EMS: packages/contracts/src/follow-ups.ts). */
export const FollowUpPaths = { followUps: '/api/follow-ups' } as const;

/** The HR lead's exit report (packages/contracts/src/reports.ts). */
export const ReportPaths = { exits: '/api/reports/exits' } as const;

/** Live updates, server-sent events (packages/contracts/src/updates.ts). */
export const UpdatesPaths = { stream: '/api/updates' } as const;

/** The embedded default's mailbox (served by Notification: packages/contracts/src/mailbox.ts). */
export const MailboxPaths = {
  messages: '/api/mailbox',
  message: (id: string) => `/api/mailbox/${encodeURIComponent(id)}`,
} as const;

/** The extensions EMS loaded (packages/contracts/src/extensions.ts). */
export const ExtensionPaths = { extensions: '/api/extensions' } as const;

export const HrPaths = {
  employees: '/api/employees',
  employee: (id: string) => `/api/employees/${encodeURIComponent(id)}`,
  hrPartners: '/api/hr-partners',
  hrPartner: (id: string) => `/api/hr-partners/${encodeURIComponent(id)}`,
  interviews: '/api/interviews',
  interview: (id: string) => `/api/interviews/${encodeURIComponent(id)}`,
  reschedule: (id: string) => `/api/interviews/${encodeURIComponent(id)}/reschedule`,
  cancel: (id: string) => `/api/interviews/${encodeURIComponent(id)}/cancel`,
  /** The orchestrator's command (service ems): a retained or withdrawn case's interview cancelled. */
  caseClosures: '/api/hr/case-closures',
  /** The orchestrator's command (service ems): a follow-up whose deadline passed, sent if HR finds it still due. */
  followUps: '/api/hr/follow-ups',
  held: (id: string) => `/api/interviews/${encodeURIComponent(id)}/held`,
} as const;

export const IdentityPaths = {
  me: '/api/me',
  apiTokens: '/api/api-tokens',
  apiToken: (id: string) => `/api/api-tokens/${encodeURIComponent(id)}`,
  signingKeys: '/api/signing-keys',
  /** POST a CSV file of people (text/csv): the directory's import. */
  directoryImports: '/api/directory/imports',
  /** A SCIM client's credentials (operators): POST makes one (its secret in that answer only), GET lists, DELETE revokes. */
  provisioningTokens: '/api/provisioning-tokens',
  provisioningToken: (id: string) => `/api/provisioning-tokens/${encodeURIComponent(id)}`,
  authConfig: '/auth/config',
  login: '/auth/login',
  callback: '/auth/callback',
  session: '/auth/session',
  refresh: '/auth/refresh',
  logout: '/auth/logout',
} as const;

/** Paths, so callers never spell them twice. */
export const NotificationPaths = {
  emails: '/api/emails',
  /** Several emails in one request (operation sendEmails): one store, one commit. */
  emailBatches: '/api/email-batches',
  email: (id: string) => `/api/emails/${encodeURIComponent(id)}`,
  /** Involuntary exits (orchestration's command, service ems): tell a chunk's managers and employees. */
  exitNotices: '/api/notification/exit-notices',
  /** The orchestrator's commands (service ems) for the reactions Notification owns. */
  managerNotices: '/api/notification/manager-notices',
  decisionAnnouncements: '/api/notification/decision-announcements',
} as const;
