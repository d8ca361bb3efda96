import { AppPaths } from '@ems/contracts/app-paths';
import { listResignations, type Resignation } from '../../api/ems.ts';
import { getHrPartner, listEvery, listFollowUps, listInterviews, peopleById, type CaseFollowUps, type Employee, type FollowUp, type Interview } from '../../api/hr.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, formatDay, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession, type Session } from '../../components/session.tsx';
import { addDays, browserZone, dayIn, formatSpan, formatTime, fromLocalInput, weekday, zoneCity } from './time.ts';

/** Reload on any change of a case the person may see: the inbox lists several. */
const live = caseChanged();

/** What the inbox shows: the person's interviews to hold, cases to decide and follow-ups, in their zone. */
export interface Inbox {
  /** The zone "today" and "this week" are counted in: the HR partner's own, or this browser's. */
  zone: string;
  today: string;
  overdue: Interview[];
  todays: Interview[];
  thisWeek: Interview[];
  nextWeek: Interview[];
  toDecide: Resignation[];
  /** Reminders and escalations sent, skipped (HR recorded them without an email) or due (deadline passed, nobody told yet), most recent first. */
  followUps: Array<FollowUp & { case: CaseFollowUps }>;
  people: Map<string, Employee>;
  partners: Map<string, string>;
}

const DECIDABLE = ['awaiting_decision', 'action_required'] as const;

/** Loads everything the inbox shows (the API scopes every list to the person's rows). */
export async function loadInbox(session: Session, signal: AbortSignal, now = new Date()): Promise<Inbox> {
  // What does not depend on the zone is asked at once, alongside the HR partner's zone.
  const others = Promise.all([listEvery((q) => listFollowUps(q, signal)), ...DECIDABLE.map((status) => listEvery((q) => listResignations({ ...q, status }, signal)))]);
  others.catch(() => undefined); // awaited below; until then a failure is not "unhandled"
  const zone = session.has('hr_partner') ? await getHrPartner(session.personId, signal).then((p) => p.timezone, () => browserZone()) : browserZone();
  const today = dayIn(now, zone);
  const sunday = addDays(today, 7 - weekday(today));
  const startOfToday = fromLocalInput(`${today}T00:00`, zone) ?? now.toISOString();
  const endOfToday = fromLocalInput(`${addDays(today, 1)}T00:00`, zone) ?? now.toISOString();
  const endOfWeek = fromLocalInput(`${addDays(sunday, 1)}T00:00`, zone) ?? now.toISOString();
  // Next week too: on a Friday the HR partner prepares Monday's.
  const endOfNextWeek = fromLocalInput(`${addDays(sunday, 8)}T00:00`, zone) ?? now.toISOString();

  const [interviews, [cases, ...decidable]] = await Promise.all([
    // Scheduled, starting before the end of next week: those of earlier days not marked held yet too.
    listEvery((q) => listInterviews({ ...q, status: 'scheduled', to: endOfNextWeek }, signal)),
    others,
  ]);
  const scheduled = interviews.filter((i) => i.status === 'scheduled' && i.start < endOfNextWeek).sort((a, b) => a.start.localeCompare(b.start));
  const toDecide = decidable.flat().sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));

  const [people, partners] = await Promise.all([
    peopleById(scheduled.map((i) => i.employeeId), signal),
    session.has('hr_lead') ? partnerNames(scheduled.map((i) => i.hrPartnerId), signal) : Promise.resolve(new Map<string, string>()),
  ]);
  const followUps = cases.flatMap((c) => c.followUps.filter((f) => f.state !== 'upcoming').map((f) => ({ ...f, case: c })));
  return {
    zone,
    today,
    overdue: scheduled.filter((i) => i.start < startOfToday),
    todays: scheduled.filter((i) => i.start >= startOfToday && i.start < endOfToday),
    thisWeek: scheduled.filter((i) => i.start >= endOfToday && i.start < endOfWeek),
    nextWeek: scheduled.filter((i) => i.start >= endOfWeek),
    toDecide,
    followUps: followUps.sort((a, b) => b.dueAt.localeCompare(a.dueAt)),
    people,
    partners,
  };
}

async function partnerNames(ids: readonly string[], signal: AbortSignal): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => getHrPartner(id, signal).catch(() => undefined)));
  return new Map(found.flatMap((p) => (p ? [[p.id, p.name] as const] : [])));
}

export function InboxPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const inbox = useResource((signal) => loadInbox(session, signal), [session.personId], live);
  const lead = session.has('hr_lead');
  const data = inbox.data;
  return (
    <Page title="Inbox">
      <p className="muted">{lead ? 'The whole organisation: every interview, every case awaiting a decision, and the escalations.' : 'Your assigned employees: interviews to hold, cases awaiting your decision, reminders.'}</p>
      <ErrorMessage error={inbox.error} />
      {data === undefined ? (
        inbox.error ? null : <Loading what="Loading your inbox" />
      ) : (
        <>
          <InboxSummary inbox={data} lead={lead} />
          {lead ? <FollowUpSection inbox={data} lead /> : null}
          <section aria-labelledby="inbox-interviews">
            <h2 id="inbox-interviews">Interviews to hold</h2>
            <p className="muted">
              Days are counted in {session.has('hr_partner') ? 'your time zone' : 'this browser’s time zone'} ({zoneCity(data.zone)}).
            </p>
            {data.overdue.length ? <InterviewTable title="Started, not yet marked held" interviews={data.overdue} inbox={data} lead={lead} /> : null}
            <InterviewTable title={`Today, ${formatDay(data.today)}`} interviews={data.todays} inbox={data} lead={lead} empty="No interviews today." />
            <InterviewTable title="Later this week" interviews={data.thisWeek} inbox={data} lead={lead} empty="No more interviews this week." />
            <InterviewTable title="Next week" interviews={data.nextWeek} inbox={data} lead={lead} empty="No interviews next week yet." />
          </section>
          <DecisionSection inbox={data} lead={lead} />
          {lead ? null : <FollowUpSection inbox={data} lead={false} />}
        </>
      )}
    </Page>
  );
}

/** The counts at a glance, as a list (each number with its words). */
function InboxSummary({ inbox, lead }: { inbox: Inbox; lead: boolean }) {
  const level = lead ? 'escalation' : 'reminder';
  const followUps = inbox.followUps.filter((f) => f.level === level).length;
  const items = [
    [inbox.todays.length, 'interview today', 'interviews today'],
    [inbox.thisWeek.length, 'more this week', 'more this week'],
    [inbox.overdue.length, 'to mark held', 'to mark held'],
    [inbox.toDecide.length, 'case awaiting a decision', 'cases awaiting a decision'],
    [followUps, level, `${level}s`],
  ] as const;
  return (
    <ul className="hr-counts" aria-label="Summary">
      {items.map(([n, one, many]) => (
        <li key={many}>
          <strong>{n}</strong> {n === 1 ? one : many}
        </li>
      ))}
    </ul>
  );
}

function InterviewTable({ title, interviews, inbox, lead, empty }: { title: string; interviews: Interview[]; inbox: Inbox; lead: boolean; empty?: string }) {
  return (
    <>
      <h3>{title}</h3>
      {interviews.length === 0 ? (
        <p>{empty}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Interviews: {title}</caption>
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">When (HR partner’s time)</th>
                <th scope="col">Employee’s time</th>
                {lead ? <th scope="col">HR partner</th> : null}
                <th scope="col">Case</th>
              </tr>
            </thead>
            <tbody>
              {interviews.map((i) => {
                const person = inbox.people.get(i.employeeId);
                const employeeZone = person?.timezone;
                return (
                  <tr key={i.id}>
                    <td>
                      <Link to={AppPaths.interview(i.id)}>{person?.name ?? i.employeeId}</Link>
                    </td>
                    <td>{formatSpan(i.start, i.end, i.timezone)}</td>
                    <td>{employeeZone ? `${dayIn(i.start, employeeZone) === dayIn(i.start, i.timezone) ? formatTime(i.start, employeeZone) : formatSpan(i.start, i.end, employeeZone)} (${zoneCity(employeeZone)})` : '—'}</td>
                    {lead ? <td>{inbox.partners.get(i.hrPartnerId) ?? i.hrPartnerId}</td> : null}
                    <td>
                      <Link to={AppPaths.case(i.resignationId)} aria-label={`Case of ${person?.name ?? i.employeeId}`}>
                        Open case
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function DecisionSection({ inbox, lead }: { inbox: Inbox; lead: boolean }) {
  return (
    <section aria-labelledby="inbox-decide">
      <h2 id="inbox-decide">{lead ? 'Cases awaiting a decision' : 'Cases awaiting your decision'}</h2>
      {inbox.toDecide.length === 0 ? (
        <p>No case is waiting for a decision.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Cases awaiting a decision, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">Status</th>
                <th scope="col">Last working day</th>
                <th scope="col">Resigned</th>
              </tr>
            </thead>
            <tbody>
              {inbox.toDecide.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={AppPaths.case(c.id)}>{c.employeeName}</Link>
                  </td>
                  <td>
                    <Status status={c.status} />
                  </td>
                  <td>{formatDay(c.lastWorkingDay)}</td>
                  <td>
                    <DateTime iso={c.submittedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const MILESTONE_WORDS: Record<FollowUp['milestone'], string> = {
  interview_scheduled: 'No interview booked',
  interview_held: 'Interview not marked held',
  decision: 'No decision yet',
};

function FollowUpSection({ inbox, lead }: { inbox: Inbox; lead: boolean }) {
  // The HR lead answers escalations: theirs first.
  const shown = lead ? [...inbox.followUps].sort((a, b) => (a.level === b.level ? 0 : a.level === 'escalation' ? -1 : 1)) : inbox.followUps;
  return (
    <section aria-labelledby="inbox-follow-ups">
      <h2 id="inbox-follow-ups">{lead ? 'Escalations and reminders' : 'Reminders and escalations'}</h2>
      {shown.length === 0 ? (
        <p>No reminder or escalation is due, sent or skipped on a case awaiting a decision.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Reminders and escalations due, sent or skipped, on cases awaiting a decision</caption>
            <thead>
              <tr>
                <th scope="col">Employee</th>
                <th scope="col">What is late</th>
                <th scope="col">Kind</th>
                <th scope="col">Due</th>
                <th scope="col">Sent</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((f) => (
                <tr key={`${f.case.resignationId}.${f.milestone}.${f.level}`}>
                  <td>
                    <Link to={AppPaths.case(f.case.resignationId)}>{f.case.employeeName}</Link>
                  </td>
                  <td>{MILESTONE_WORDS[f.milestone]}</td>
                  <td>
                    <span className={`badge badge-${f.level}`}>{f.level === 'escalation' ? 'Escalation' : 'Reminder'}</span>
                  </td>
                  <td>
                    <DateTime iso={f.dueAt} />
                  </td>
                  <td>
                    <FollowUpSent followUp={f} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** When it went out; or that HR skipped it, when and why (nobody to send it to, or Notification refused it); or that it is due. */
function FollowUpSent({ followUp: f }: { followUp: FollowUp }) {
  if (f.state === 'sent') return <DateTime iso={f.sentAt} />;
  if (f.state === 'skipped') {
    return (
      <>
        Skipped, not sent (<DateTime iso={f.skippedAt} />): {f.reason ?? 'no reason given'}
      </>
    );
  }
  return <>Not yet: due</>;
}
