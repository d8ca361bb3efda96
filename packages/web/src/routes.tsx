import type { ComponentType } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import type { Role } from './components/session.tsx';
import { matchPath as matchPathPattern } from './components/router.tsx';
import { HomePage } from './pages/home.tsx';
import { CasePage, CasesPage, ResignPage } from './pages/employee/index.tsx';
import { TeamPage } from './pages/manager/index.tsx';
import { InboxPage, InterviewPage, ReportsPage } from './pages/hr/index.tsx';
import { AccessAuditPage, AccessPage, EmployeeAccessPage } from './pages/access/index.tsx';
import { DeadLetterPage, DeadLettersPage, ExtensionsPage, OperationsPage, WebhookPage, WebhooksPage } from './pages/operations/index.tsx';
import { MailPage, MailboxPage } from './pages/mailbox/index.tsx';
import { DirectoryImportPage } from './pages/directory/import.tsx';
import { EndEmploymentPage, ExitBatchPage } from './pages/exits/index.tsx';

/** A page receives its path parameters (`/cases/:id` → `{ id }`). */
export type PageComponent = ComponentType<{ params: Record<string, string> }>;

export interface Route {
  pattern: string;
  page: PageComponent;
  /** Who may open it (any of these roles); absent: anyone signed in. Others get "not yours", never the data: the API refuses them too. */
  roles?: readonly Role[];
}

/** Every page of the app. Paths come from AppPaths (links in emails use the same). */
export const ROUTES: readonly Route[] = [
  { pattern: AppPaths.home, page: HomePage },
  { pattern: AppPaths.resign, page: ResignPage, roles: ['employee', 'hr_partner', 'hr_lead'] },
  { pattern: AppPaths.cases, page: CasesPage, roles: ['employee', 'manager', 'hr_partner', 'hr_lead', 'access_admin', 'operator'] },
  { pattern: AppPaths.case(':id'), page: CasePage },
  { pattern: AppPaths.team, page: TeamPage, roles: ['manager'] },
  { pattern: AppPaths.inbox, page: InboxPage, roles: ['hr_partner', 'hr_lead'] },
  { pattern: AppPaths.interview(':id'), page: InterviewPage, roles: ['employee', 'hr_partner', 'hr_lead'] },
  { pattern: AppPaths.reports, page: ReportsPage, roles: ['hr_lead'] },
  { pattern: AppPaths.access, page: AccessPage, roles: ['access_admin', 'hr_lead', 'hr_partner'] },
  { pattern: AppPaths.accessAudit, page: AccessAuditPage, roles: ['access_admin', 'operator'] },
  { pattern: AppPaths.employeeAccess(':id'), page: EmployeeAccessPage, roles: ['access_admin', 'hr_lead', 'hr_partner'] },
  { pattern: AppPaths.operations, page: OperationsPage, roles: ['operator'] },
  { pattern: AppPaths.deadLetters, page: DeadLettersPage, roles: ['operator'] },
  { pattern: AppPaths.deadLetter(':id'), page: DeadLetterPage, roles: ['operator'] },
  { pattern: AppPaths.webhooks, page: WebhooksPage, roles: ['operator'] },
  { pattern: AppPaths.webhook(':id'), page: WebhookPage, roles: ['operator'] },
  { pattern: AppPaths.extensions, page: ExtensionsPage, roles: ['operator'] },
  { pattern: AppPaths.directoryImport, page: DirectoryImportPage, roles: ['hr_lead', 'operator'] },
  { pattern: AppPaths.exits, page: EndEmploymentPage, roles: ['hr_lead'] },
  { pattern: AppPaths.exitBatch(':id'), page: ExitBatchPage, roles: ['hr_lead'] },
  { pattern: AppPaths.mailbox, page: MailboxPage },
  { pattern: AppPaths.mail(':id'), page: MailPage },
];

/** The navigation: each person sees the links of their roles, in this order. */
export const NAV: ReadonlyArray<{ to: string; label: string; roles?: readonly Role[] }> = [
  { to: AppPaths.home, label: 'Home' },
  { to: AppPaths.resign, label: 'Resign', roles: ['employee'] },
  { to: AppPaths.cases, label: 'Cases', roles: ['employee', 'hr_partner', 'hr_lead', 'access_admin', 'operator'] },
  { to: AppPaths.team, label: 'My team', roles: ['manager'] },
  { to: AppPaths.inbox, label: 'Inbox', roles: ['hr_partner', 'hr_lead'] },
  { to: AppPaths.reports, label: 'Reports', roles: ['hr_lead'] },
  { to: AppPaths.exits, label: 'End employment', roles: ['hr_lead'] },
  { to: AppPaths.access, label: 'Access', roles: ['access_admin', 'hr_lead'] },
  { to: AppPaths.accessAudit, label: 'Access audit', roles: ['access_admin', 'operator'] },
  { to: AppPaths.operations, label: 'Operations', roles: ['operator'] },
  { to: AppPaths.directoryImport, label: 'Import people', roles: ['hr_lead', 'operator'] },
  { to: AppPaths.mailbox, label: 'Mailbox' },
];

export function findRoute(path: string): { route: Route; params: Record<string, string> } | null {
  for (const route of ROUTES) {
    const params = matchRoute(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

function matchRoute(pattern: string, path: string): Record<string, string> | null {
  // AppPaths.case(':id') encodes the colon: undo that for the pattern.
  return matchPathPattern(decodeURIComponent(pattern), path);
}
