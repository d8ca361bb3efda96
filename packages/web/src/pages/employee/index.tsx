import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function ResignPage(_props: { params: Record<string, string> }) {
  return <Page title="Resign"><p>This page is being built.</p></Page>;
}


/** Placeholder: being built. */
export function CasePage(_props: { params: Record<string, string> }) {
  return <Page title="Case"><p>This page is being built.</p></Page>;
}

export { CasesPage } from './cases.tsx';
