/** The HR partner's and the HR lead's pages. */
export { InboxPage } from './inbox.tsx';
export { InterviewPage } from './interview.tsx';
export { ReportsPage } from './reports.tsx';
