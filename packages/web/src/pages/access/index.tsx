import { Page } from '../../components/ui.tsx';

/** Placeholder: being built. */
export function AccessPage(_props: { params: Record<string, string> }) {
  return <Page title="Access"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function AccessAuditPage(_props: { params: Record<string, string> }) {
  return <Page title="AccessAudit"><p>This page is being built.</p></Page>;
}

/** Placeholder: being built. */
export function EmployeeAccessPage(_props: { params: Record<string, string> }) {
  return <Page title="EmployeeAccess"><p>This page is being built.</p></Page>;
}
