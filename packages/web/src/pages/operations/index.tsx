import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function OperationsPage(_props: { params: Record<string, string> }) {
  return <Page title="Operations"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function DeadLettersPage(_props: { params: Record<string, string> }) {
  return <Page title="DeadLetters"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function DeadLetterPage(_props: { params: Record<string, string> }) {
  return <Page title="DeadLetter"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function WebhooksPage(_props: { params: Record<string, string> }) {
  return <Page title="Webhooks"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function WebhookPage(_props: { params: Record<string, string> }) {
  return <Page title="Webhook"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function ExtensionsPage(_props: { params: Record<string, string> }) {
  return <Page title="Extensions"><p>This page is being built.</p></Page>;
}
