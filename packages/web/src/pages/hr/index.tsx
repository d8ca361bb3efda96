import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function InboxPage(_props: { params: Record<string, string> }) {
  return <Page title="Inbox"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function InterviewPage(_props: { params: Record<string, string> }) {
  return <Page title="Interview"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function ReportsPage(_props: { params: Record<string, string> }) {
  return <Page title="Reports"><p>This page is being built.</p></Page>;
}
