/**
 * The web app's pages: the one place that names them. Links in emails, in the API's answers and in the
 * app itself are built from these, so a link never opens raw JSON. The server answers every one of these
 * paths with the app's shell (the page then asks the API, as the signed-in person).
 */
const id = (value: string) => encodeURIComponent(value);

export const AppPaths = {
  /** The signed-in person's start page: what is theirs to do, by role. */
  home: '/',
  /** Employee: resign (a last-working-day picker and a reason). */
  resign: '/resign',
  /** Cases the person may see (employee: their own; manager: their reports'; HR: assigned or all). */
  cases: '/cases',
  case: (resignationId: string) => `/cases/${id(resignationId)}`,
  /** HR partner's inbox: interviews to hold, cases awaiting a decision, follow-ups due. */
  inbox: '/inbox',
  interview: (interviewId: string) => `/interviews/${id(interviewId)}`,
  /** Manager: their reports' open cases. */
  team: '/team',
  /** HR lead: exits by month, department and reason. */
  reports: '/reports',
  /** IT: active holds and scheduled revocations. */
  access: '/access',
  accessAudit: '/access/audit',
  employeeAccess: (employeeId: string) => `/access/employees/${id(employeeId)}`,
  /** Operator: stuck cases, dead letters, webhooks, extensions. */
  operations: '/operations',
  deadLetters: '/operations/dead-letters',
  deadLetter: (deadLetterId: string) => `/operations/dead-letters/${id(deadLetterId)}`,
  webhooks: '/operations/webhooks',
  webhook: (webhookId: string) => `/operations/webhooks/${id(webhookId)}`,
  extensions: '/operations/extensions',
  /** HR lead, operator: import HR's CSV export into the directory (a dry run first, then applied after a confirmation). */
  directoryImport: '/directory/import',
  /** HR lead: end employments — one person or a CSV list (an involuntary / mass exit), after a confirmation. */
  exits: '/exits',
  /** HR lead: one involuntary / mass exit's progress and its cases. */
  exitBatch: (batchId: string) => `/exits/${id(batchId)}`,
  /** The embedded default's captured emails. */
  mailbox: '/mailbox',
  mail: (messageId: string) => `/mailbox/${id(messageId)}`,
} as const;

/** First path segments that belong to the app (the server answers them with the app's shell). */
export const APP_ROOTS = ['resign', 'cases', 'inbox', 'interviews', 'team', 'reports', 'access', 'operations', 'mailbox', 'directory', 'exits'] as const;

/**
 * An absolute link to one of the app's pages, as an email or an answer meant for people carries it:
 * `appUrl('https://ems.acme.example', AppPaths.case(id))` → `https://ems.acme.example/cases/<id>`.
 */
export function appUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}
