import { AppPaths } from '@ems/contracts/app-paths';
import { listOpenResignations, type Resignation } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, formatDay, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';

const live = caseChanged();

/** What the manager should know next about a report's case, in a few words. */
function nextWords(c: Resignation): string {
  switch (c.status) {
    case 'in_progress':
      return 'Being set up: you are told, an exit interview is booked, critical access is suspended.';
    case 'awaiting_decision':
      return 'Exit interview, then HR decides.';
    case 'action_required':
      return 'HR is sorting out a step that failed.';
    case 'exit_confirmed':
      return 'Leaving: access is revoked at the end of the last working day.';
    case 'retained':
      return 'Staying: access is being restored.';
    case 'withdrawn':
      return 'Withdrawn: access is being restored.';
    case 'exited':
      return 'Left: access revoked.';
    default:
      return '';
  }
}

/**
 * The manager's reports' open cases: status and dates. The API gives a manager the summary view (no reason,
 * no notes) and only their reports' cases; their own case, if any, is on their cases page, not here.
 */
export function TeamPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const cases = useResource((signal) => listOpenResignations({}, signal), [], live);
  const reports = (cases.data ?? []).filter((c) => c.employeeId !== session.personId);
  return (
    <Page title="My team">
      <p>Open resignations of the people who report to you. Each links to its case: where it stands and what comes next.</p>
      <ErrorMessage error={cases.error} />
      {cases.data === undefined ? (
        cases.error ? null : <Loading what="Loading your team's cases" />
      ) : reports.length === 0 ? (
        <p role="status">No one in your team has an open resignation.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Open resignations in your team, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">Status</th>
                <th scope="col">Last working day</th>
                <th scope="col">Submitted</th>
                <th scope="col">Next</th>
              </tr>
            </thead>
            <tbody>
              {reports.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={AppPaths.case(c.id)}>{c.employeeName}</Link>
                  </td>
                  <td>
                    <Status status={c.status} />
                  </td>
                  <td>
                    {formatDay(c.decision?.lastWorkingDay ?? c.lastWorkingDay)}
                    {c.decision?.revokeAt ? (
                      <div className="muted">
                        access ends at the end of that day (their time)
                      </div>
                    ) : null}
                  </td>
                  <td>{formatDay(c.submittedAt.slice(0, 10))}</td>
                  <td>{nextWords(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
