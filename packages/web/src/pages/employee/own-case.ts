import { AppPaths } from '@ems/contracts/app-paths';
import { isOpen, listResignations } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { useSession } from '../../components/session.tsx';

const live = caseChanged();

/**
 * The signed-in employee's case that matters and where "your case" goes: straight to that case when they have
 * one (their only case, or the open one — an employee has at most one), else to the list of their cases.
 * `known` is false until their cases have loaded (or failed to): until then the path is only a guess, the
 * list, and a link that leads there would take an early click to the wrong page.
 */
export function useOwnCase(): { path: string; openId: string | undefined; known: boolean } {
  const session = useSession();
  const employee = session.has('employee');
  const own = useResource(
    (signal) => (employee ? listResignations({ employeeId: session.personId, limit: 2 }, signal) : Promise.resolve({ items: [], nextOffset: null })),
    [employee, session.personId],
    live,
  );
  const known = own.data !== undefined || own.error !== undefined;
  const items = own.data?.items ?? [];
  const newest = items[0];
  const openId = newest && isOpen(newest) ? newest.id : undefined;
  if (newest && (items.length === 1 || openId)) return { path: AppPaths.case(newest.id), openId, known };
  return { path: AppPaths.cases, openId, known };
}
