import { listResignations } from '../../api/ems.ts';
import { getHrPartner, listEvery, listFollowUps, listInterviews } from '../../api/hr.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { useSession, type Role } from '../../components/session.tsx';
import { addDays, browserZone, dayIn, fromLocalInput } from './time.ts';

const live = caseChanged();

/**
 * On the home page's HR card: what is waiting in the inbox, in numbers (interviews today, cases awaiting a
 * decision, follow-ups due). Shown once, on the HR partner's card (or the HR lead's, for a lead who is not also a partner).
 */
export function HrHomeCounts({ role }: { role: Role }) {
  const session = useSession();
  const shown = role === 'hr_partner' || (role === 'hr_lead' && !session.has('hr_partner'));
  const counts = useResource(
    async (signal) => {
      if (!shown) return undefined;
      const zone = session.has('hr_partner') ? await getHrPartner(session.personId, signal).then((p) => p.timezone, () => browserZone()) : browserZone();
      const today = dayIn(new Date(), zone);
      const from = fromLocalInput(`${today}T00:00`, zone);
      const to = fromLocalInput(`${addDays(today, 1)}T00:00`, zone);
      const [interviews, awaiting, attention, due] = await Promise.all([
        listEvery((q) => listInterviews({ ...q, status: 'scheduled', from, to }, signal)),
        listEvery((q) => listResignations({ ...q, status: 'awaiting_decision' }, signal)),
        listEvery((q) => listResignations({ ...q, status: 'action_required' }, signal)),
        listEvery((q) => listFollowUps({ ...q, state: 'due' }, signal)),
      ]);
      return { today: interviews.length, toDecide: awaiting.length + attention.length, due: due.length };
    },
    [shown, session.personId],
    live,
  );
  if (!shown || !counts.data) return null;
  const { today, toDecide, due } = counts.data;
  return (
    <p className="hr-home-counts">
      {today} {today === 1 ? 'interview' : 'interviews'} today · {toDecide} {toDecide === 1 ? 'case' : 'cases'} awaiting a decision · {due} {due === 1 ? 'case' : 'cases'} with a follow-up due
    </p>
  );
}
