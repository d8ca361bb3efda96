export { ResignPage } from './resign.tsx';
export { CasePage } from './case.tsx';
export { CasesPage } from './cases.tsx';
