import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function ReportsPage(_props: { params: Record<string, string> }) {
  return <Page title="Reports"><p>This page is being built.</p></Page>;
}
