export { AccessPage } from './access.tsx';
export { EmployeeAccessPage } from './employee-access.tsx';
export { AccessAuditPage } from './audit.tsx';
