import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function MailboxPage(_props: { params: Record<string, string> }) {
  return <Page title="Mailbox"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function MailPage(_props: { params: Record<string, string> }) {
  return <Page title="Mail"><p>This page is being built.</p></Page>;
}
