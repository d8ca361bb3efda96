import { AppPaths } from '@ems/contracts/app-paths';
import { Page } from '../components/ui.tsx';
import { Link } from '../components/router.tsx';
import { useSession, type Role } from '../components/session.tsx';
import { HrHomeCounts } from './hr/home-counts.tsx';
import { useOwnCase } from './employee/own-case.ts';

/** What is this person's to do, by role: one card per role, each linking to that role's main page. */
const CARDS: ReadonlyArray<{ role: Role; title: string; text: string; to: string; link: string }> = [
  { role: 'employee', title: 'Your exit', text: 'Resign, follow your case in plain words, withdraw while you may, see your exit interview.', to: AppPaths.cases, link: 'Your case' },
  { role: 'manager', title: 'Your team', text: "Your reports' open cases: where each stands and the dates that matter.", to: AppPaths.team, link: 'Open cases in your team' },
  { role: 'hr_partner', title: 'Your inbox', text: 'Interviews to hold, cases awaiting your decision, reminders due.', to: AppPaths.inbox, link: 'Open your inbox' },
  { role: 'hr_lead', title: 'The organisation', text: 'Every case, escalations, and exits by month, department and reason.', to: AppPaths.reports, link: 'See the reports' },
  { role: 'access_admin', title: 'Access', text: 'Active holds and what each suspended, scheduled revocations, the audit.', to: AppPaths.access, link: 'Open access' },
  { role: 'operator', title: 'Operations', text: 'Stuck cases, dead letters, webhooks and extensions, live.', to: AppPaths.operations, link: 'Open operations' },
];

export function HomePage() {
  const session = useSession();
  const cards = CARDS.filter((c) => session.has(c.role));
  const ownCase = useOwnCase();
  return (
    <Page title={`Hello, ${session.name}`}>
      {cards.length === 0 ? <p>Your account has no role in EMS yet. Ask your HR team.</p> : null}
      <ul className="cards">
        {cards.map((c) => (
          <li key={c.role} className="card">
            <h2>{c.title}</h2>
            <p>{c.text}</p>
            <HrHomeCounts role={c.role} />
            {c.role !== 'employee' ? (
              <Link to={c.to}>{c.link}</Link>
            ) : ownCase.known ? (
              <Link to={ownCase.path}>{c.link}</Link>
            ) : (
              // Until their cases have loaded, no link: one that led to the list would take an early click there.
              <span aria-busy="true">Finding your case…</span>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
