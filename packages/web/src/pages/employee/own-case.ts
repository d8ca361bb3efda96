import { AppPaths } from '@ems/contracts/app-paths';
import { isOpen, listResignations } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { useSession } from '../../components/session.tsx';

const live = caseChanged();

/**
 * Where an employee's "your case" goes: straight to their case when they have one that matters (their only
 * case, or the open one — an employee has at most one), else to the list of their cases.
 */
export function useOwnCasePath(): string {
  return useOwnCase().path;
}

/** The signed-in employee's case that matters (see useOwnCasePath), its path, and whether it is open. */
export function useOwnCase(): { path: string; openId: string | undefined } {
  const session = useSession();
  const employee = session.has('employee');
  const own = useResource(
    (signal) => (employee ? listResignations({ employeeId: session.personId, limit: 2 }, signal) : Promise.resolve({ items: [], nextOffset: null })),
    [employee, session.personId],
    live,
  );
  const items = own.data?.items ?? [];
  const newest = items[0];
  const openId = newest && isOpen(newest) ? newest.id : undefined;
  if (newest && (items.length === 1 || openId)) return { path: AppPaths.case(newest.id), openId };
  return { path: AppPaths.cases, openId };
}
