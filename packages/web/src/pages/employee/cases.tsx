import { AppPaths } from '@ems/contracts/app-paths';
import { listResignations } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, formatDay, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../router.tsx';

const live = caseChanged();

/** The cases this person may see (the API decides which: their own, their reports', assigned, or all). */
export function CasesPage(_props: { params: Record<string, string> }) {
  const cases = useResource((signal) => listResignations({ limit: 100 }, signal), [], live);
  return (
    <Page title="Cases">
      <ErrorMessage error={cases.error} />
      {cases.data === undefined ? (
        cases.error ? null : <Loading />
      ) : cases.data.items.length === 0 ? (
        <p>No cases to show.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Cases, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">Status</th>
                <th scope="col">Last working day</th>
                <th scope="col">Submitted</th>
              </tr>
            </thead>
            <tbody>
              {cases.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={AppPaths.case(c.id)}>{c.employeeName}</Link>
                  </td>
                  <td>
                    <Status status={c.status} />
                  </td>
                  <td>{formatDay(c.lastWorkingDay)}</td>
                  <td>{formatDay(c.submittedAt.slice(0, 10))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
