import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function TeamPage(_props: { params: Record<string, string> }) {
  return <Page title="Team"><p>This page is being built.</p></Page>;
}
