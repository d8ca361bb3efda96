import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem, newIdempotencyKey } from '../../api/client.ts';
import { getEmployee, getHrPartner, listInterviews, type Employee, type Interview } from '../../api/directory.ts';
import { getResignation, getTimeline, REASON_CATEGORY_WORDS, withdrawResignation, WITHDRAWABLE, type Resignation, type StepName, type TimelineEntry } from '../../api/ems.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource, type Resource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Field, formatDay, formatInstant, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession, type Session } from '../../components/session.tsx';
import { DecisionPanel } from '../hr/decision-panel.tsx';
import { CaseFlow } from '../operations/case-flow.tsx';
import { stepsOf } from '../operations/steps.ts';
import { calendarFile, calendarHref } from '../../components/calendar-file.ts';
import { ConnectedSystems, useSystemNames, withSystemName } from './connected-systems.tsx';

/** Whose case, in the words of whoever reads it: "you" to the employee, their name to everyone else. */
interface Voice {
  self: boolean;
  /** "You" / "Ada Lovelace" at the start of a sentence. */
  who: string;
  /** "your" / "Ada Lovelace's". */
  whose: string;
}

const voiceOf = (c: Resignation, session: Session): Voice =>
  session.personId === c.employeeId ? { self: true, who: 'You', whose: 'your' } : { self: false, who: c.employeeName, whose: `${c.employeeName}'s` };

/** Each step in plain words: what it is, and what it means when done, awaited or failed. */
const STEPS: Record<StepName, { title: string; done: (v: Voice) => string; pending: (v: Voice) => string }> = {
  notifyManager: { title: 'Tell the manager', done: (v) => `${cap(v.whose)} manager was told by email.`, pending: (v) => `${cap(v.whose)} manager is being told by email.` },
  scheduleInterview: {
    title: 'Book the exit interview',
    done: (v) => `An exit interview with ${v.whose} HR partner was booked and the invite sent.`,
    pending: (v) => `An exit interview with ${v.whose} HR partner is being booked.`,
  },
  suspendAccess: { title: 'Suspend critical access', done: (v) => `${cap(v.whose)} critical access is suspended until HR decides.`, pending: (v) => `${cap(v.whose)} critical access is being suspended until HR decides.` },
  announceDecision: { title: 'Announce the decision', done: (v) => `The decision was emailed to ${v.self ? 'you' : v.who} and the manager.`, pending: (v) => `The decision is being emailed to ${v.self ? 'you' : v.who} and the manager.` },
  restoreAccess: { title: 'Restore access', done: () => 'The access that was suspended is back.', pending: () => 'The access that was suspended is being restored.' },
  cancelInterview: { title: 'Cancel the exit interview', done: () => 'The exit interview no longer takes place (cancelled, or it had been held).', pending: () => 'The exit interview is being cancelled.' },
  revokeAccess: { title: 'Revoke access', done: (v) => `All of ${v.whose} access was revoked.`, pending: () => 'Every remaining grant will be revoked at the end of the last working day.' },
};

/** An involuntary exit's steps read differently: every grant is suspended (not only the critical ones), and the notice tells employee and manager. */
const INVOLUNTARY_STEPS: Partial<typeof STEPS> = {
  suspendAccess: { title: 'Suspend all access', done: (v) => `Every grant of ${v.whose} access is suspended until it is revoked.`, pending: (v) => `Every grant of ${v.whose} access is being suspended.` },
  announceDecision: {
    title: 'Tell the employee and the manager',
    done: (v) => `${v.self ? 'You' : v.who} and the manager were told by email.`,
    pending: (v) => `${v.self ? 'You' : v.who} and the manager are told by email once every grant is suspended.`,
  },
};

const stepWords = (c: Resignation, name: StepName) => (c.kind === 'involuntary' ? (INVOLUNTARY_STEPS[name] ?? STEPS[name]) : STEPS[name]);

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const live = (id: string) => caseChanged(id);

/** The case everybody who may read it shares: what happened, what comes next and by when, the timeline; each role's part. */
export function CasePage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const session = useSession();
  const onUpdate = useCallback(live(id), [id]);
  const kase = useResource(
    async (signal) => {
      const [resignation, timeline] = await Promise.all([getResignation(id, signal), getTimeline(id, signal)]);
      return { resignation, timeline: timeline.items };
    },
    [id],
    onUpdate,
  );
  const employeeId = kase.data?.resignation.employeeId;
  const employee = useResource((signal) => (employeeId ? getEmployee(employeeId, signal) : Promise.resolve(undefined)), [employeeId]);
  // The interview: the employee's own (summary view), their HR partner's and the HR lead's; nobody else may list it.
  // An involuntary exit has no interview (and no decision to take, nothing to withdraw).
  const involuntary = kase.data?.resignation.kind === 'involuntary';
  const readsInterview = Boolean(employeeId) && !involuntary && (employeeId === session.personId || session.has('hr_partner', 'hr_lead'));
  const interviews = useResource((signal) => (readsInterview ? listInterviews({ resignationId: id, limit: 20 }, signal) : Promise.resolve(undefined)), [id, readsInterview], onUpdate);
  const interview = pickInterview(interviews.data?.items ?? []);
  const partnerId = interview?.hrPartnerId;
  const knownPartner = employee.data && partnerId === employee.data.hrPartner.id ? employee.data.hrPartner : undefined;
  const partner = useResource((signal) => (partnerId && !knownPartner ? getHrPartner(partnerId, signal) : Promise.resolve(undefined)), [partnerId, knownPartner?.id]);
  const withWhom = partnerId ? { name: knownPartner?.name ?? partner.data?.name ?? partnerId, email: knownPartner?.email ?? partner.data?.email } : undefined;
  const systemNames = useSystemNames(kase.data?.resignation);

  if (kase.data === undefined) {
    return (
      <Page title="Case">
        {kase.error ? (
          kase.error instanceof Problem && (kase.error.status === 404 || kase.error.status === 400) ? (
            <p>
              There is no case {id ? <code>{id}</code> : null} that you may see. <Link to={AppPaths.cases}>See your cases</Link>.
            </p>
          ) : (
            <ErrorMessage error={kase.error} />
          )
        ) : (
          <Loading what="Loading the case" />
        )}
      </Page>
    );
  }
  const { resignation: c, timeline } = kase.data;
  const voice = voiceOf(c, session);
  const zone = employee.data?.timezone;
  const canWithdraw = !involuntary && (voice.self || session.has('hr_lead'));
  const title = involuntary ? (voice.self ? 'Your exit' : `${c.employeeName}'s exit`) : voice.self ? 'Your resignation' : `${c.employeeName}'s resignation`;
  return (
    <Page title={title}>
      <ErrorMessage error={kase.error} />
      <Summary c={c} voice={voice} zone={zone} employee={employee.data} />
      <WhatNext c={c} voice={voice} zone={zone} interview={interview && interview.status === 'scheduled' ? { start: interview.start, with: withWhom?.name ?? '' } : undefined} />
      {readsInterview ? <InterviewCard c={c} voice={voice} employee={employee.data} interviews={interviews} current={interview} partner={withWhom} /> : null}
      {canWithdraw && WITHDRAWABLE.includes(c.status) ? <Withdraw c={c} voice={voice} onDone={kase.reload} /> : null}
      {!involuntary && session.has('hr_partner', 'hr_lead') ? <DecisionPanel resignation={c} onDecided={kase.reload} /> : null}
      <Steps c={c} voice={voice} zone={zone} />
      <ConnectedSystems c={c} zone={zone} names={systemNames} />
      {session.has('operator') ? <CaseFlow resignation={c} timeline={timeline} /> : null}
      <Timeline items={timeline} zone={zone} systemNames={systemNames} />
    </Page>
  );
}

function Summary({ c, voice, zone, employee }: { c: Resignation; voice: Voice; zone: string | undefined; employee: Employee | undefined }) {
  const d = c.decision;
  return (
    <section aria-labelledby="case-facts">
      <h2 id="case-facts" className="visually-hidden">
        The case
      </h2>
      <dl className="facts">
        {voice.self ? null : (
          <>
            <dt>Employee</dt>
            <dd>
              {c.employeeName} <span className="muted">({c.employeeId})</span>
            </dd>
          </>
        )}
        {c.kind === 'involuntary' ? (
          <>
            <dt>Kind</dt>
            <dd>
              Involuntary exit, started by HR
              {c.batchId ? <ExitBatchLink batchId={c.batchId} /> : null}
            </dd>
          </>
        ) : null}
        <dt>Status</dt>
        <dd>
          <Status status={c.status} /> {c.closedAt ? <span>— closed {formatInstant(c.closedAt, zone)}</span> : null}
        </dd>
        <dt>Last working day</dt>
        <dd>{formatDay(c.lastWorkingDay)}</dd>
        <dt>{c.kind === 'involuntary' ? 'Started' : 'Submitted'}</dt>
        <dd>
          <DateTime iso={c.submittedAt} {...(zone ? { timeZone: zone } : {})} />
        </dd>
        {c.responsible.changedAt ? <ResponsibleNow c={c} zone={zone} employee={employee} /> : null}
        {voice.self || c.department === null ? null : (
          <>
            <dt>Department</dt>
            <dd>{c.department}</dd>
          </>
        )}
        {c.reasonCategory ? (
          <>
            <dt>Reason category</dt>
            <dd>{REASON_CATEGORY_WORDS[c.reasonCategory]}</dd>
          </>
        ) : null}
        {c.reason !== null ? (
          <>
            <dt>Reason</dt>
            <dd className="prewrap">{c.reason || <span className="muted">none given</span>}</dd>
          </>
        ) : null}
        {d ? (
          <>
            <dt>Decision</dt>
            <dd>
              {decisionWords(d.decision)} on <DateTime iso={d.decidedAt} {...(zone ? { timeZone: zone } : {})} />
              {d.decidedBy ? ` by ${d.decidedBy.name ?? d.decidedBy.id}` : ''}
              {d.revision > 1 ? ` (last day moved ${d.revision - 1} ${d.revision === 2 ? 'time' : 'times'})` : ''}
            </dd>
            {d.note ? (
              <>
                <dt>Note</dt>
                <dd className="prewrap">{d.note}</dd>
              </>
            ) : null}
            {d.revokeAt ? (
              <>
                <dt>Access revoked</dt>
                <dd>
                  {c.status === 'exited' ? '' : 'at '}
                  <DateTime iso={d.revokeAt} {...(zone ? { timeZone: zone } : {})} />
                  {zone ? <span className="muted"> (the employee's time)</span> : null}
                </dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
    </section>
  );
}

/** The batch the involuntary exit was started in: a link to its progress for the HR lead (the only role that may read it). */
function ExitBatchLink({ batchId }: { batchId: string }) {
  const session = useSession();
  return session.has('hr_lead') ? (
    <>
      {' '}
      — <Link to={AppPaths.exitBatch(batchId)}>see the exit’s progress</Link>
    </>
  ) : (
    <span className="muted"> (batch {batchId})</span>
  );
}

/** The directory changed the manager or HR partner after submission: who is responsible now, beside who was. */
function ResponsibleNow({ c, zone, employee }: { c: Resignation; zone: string | undefined; employee: Employee | undefined }) {
  const r = c.responsible;
  // HR's directory names the HR partner in force; the case knows only the id when EMS's roster had no name.
  const nameOf = (p: { id: string; name: string | null } | null) => (p ? (p.name ?? (employee?.hrPartner.id === p.id ? employee.hrPartner.name : p.id)) : 'nobody');
  const line = (role: string, now: typeof r.manager, then: typeof r.manager) =>
    (now?.id ?? null) === (then?.id ?? null) ? `${role}: ${nameOf(now)}` : `${role}: ${nameOf(now)} (was ${nameOf(then)} at submission)`;
  return (
    <>
      <dt>Responsible now</dt>
      <dd>
        {line('Manager', r.manager, r.atSubmission.manager)}
        <br />
        {line('HR partner', r.hrPartner, r.atSubmission.hrPartner)}
        <br />
        <span className="muted">
          Changed in the directory <DateTime iso={r.changedAt} {...(zone ? { timeZone: zone } : {})} />
        </span>
      </dd>
    </>
  );
}

function decisionWords(d: 'retained' | 'withdrawn' | 'exit_confirmed'): string {
  return d === 'retained' ? 'Retained' : d === 'withdrawn' ? 'Withdrawn' : 'Exit confirmed';
}

/** What happens next, and by when, in a sentence or two. */
function WhatNext({ c, voice, zone, interview }: { c: Resignation; voice: Voice; zone: string | undefined; interview: { start: string; with: string } | undefined }) {
  const steps = stepsOf(c);
  const awaited = steps.filter(([, s]) => s.status === 'pending' || s.status === 'late');
  const failed = steps.filter(([, s]) => s.status === 'failed');
  const late = steps.filter(([, s]) => s.status === 'late');
  const byWhen = awaited
    .map(([, s]) => s.expectedBy)
    .filter((x): x is string => Boolean(x))
    .sort()
    .at(-1);
  const at = (iso: string | null | undefined) => formatInstant(iso, zone);
  let text: string;
  if (c.kind === 'involuntary' && c.status !== 'exited') {
    const revokeAt = c.decision?.revokeAt;
    text =
      c.steps.suspendAccess.status === 'done'
        ? `HR started this exit. Every grant of ${voice.whose} access is suspended${revokeAt ? ` and is revoked at ${at(revokeAt)}` : ' and is revoked at the end of the last working day'}. There is no exit interview and no decision to take.`
        : `HR started this exit. EMS is suspending every grant of ${voice.whose} access${byWhen ? `, expected by ${at(byWhen)}` : ''}; then ${voice.self ? 'you' : voice.who} and the manager are told by email.`;
  } else {
    switch (c.status) {
      case 'in_progress':
        text = `EMS is telling ${voice.whose} manager, booking an exit interview with ${voice.whose} HR partner and suspending ${voice.whose} critical access${byWhen ? `, expected by ${at(byWhen)}` : ''}.`;
        break;
      case 'awaiting_decision':
        text = `Next: the exit interview${interview ? `, ${at(interview.start)}${interview.with ? ` with ${interview.with}` : ''}` : ''}. After it, HR decides — ${voice.self ? 'you stay' : `${voice.who} stays`} (retained), or the exit is confirmed with a last working day.${voice.self ? ' Until HR decides, you may withdraw your resignation.' : ''}`;
        break;
      case 'action_required':
        text = `Something needs HR's attention: ${failed.map(([n, s]) => `${stepWords(c, n).title.toLowerCase()} failed${s.lastError ? ` (${s.lastError})` : ''}`).join('; ') || 'a step failed'}. HR can still decide${voice.self ? ', and you may still withdraw' : ''}.`;
        break;
      case 'exit_confirmed':
        text = `The exit is confirmed. The last working day is ${formatDay(c.decision?.lastWorkingDay ?? c.lastWorkingDay)}; every remaining grant is revoked at its end${c.decision?.revokeAt ? `, ${at(c.decision.revokeAt)}` : ''}.`;
        break;
      case 'retained':
      case 'withdrawn':
        text = c.closedAt
          ? `Nothing more to do: the suspended access is back and the exit interview no longer takes place. Closed ${at(c.closedAt)}.`
          : `${c.status === 'retained' ? `${voice.self ? 'You stay' : `${voice.who} stays`}.` : 'The resignation was withdrawn.'} The suspended access is being restored and the exit interview cancelled${byWhen ? `, expected by ${at(byWhen)}` : ''}.`;
        break;
      case 'exited':
        text = `${voice.who} left after ${formatDay(c.decision?.lastWorkingDay ?? c.lastWorkingDay)}: all access was revoked.${c.closedAt ? ` Closed ${at(c.closedAt)}.` : ''}`;
        break;
      default:
        text = '';
    }
  }
  return (
    <section aria-labelledby="case-next" className="next">
      <h2 id="case-next">What comes next</h2>
      <p>{text}</p>
      {late.length > 0 ? (
        <p className="late-note">
          <strong>Late:</strong> {late.map(([n, s]) => `${stepWords(c, n).title.toLowerCase()} (expected by ${at(s.expectedBy)})`).join('; ')}. EMS keeps trying; HR is reminded.
        </p>
      ) : null}
    </section>
  );
}

function Steps({ c, voice, zone }: { c: Resignation; voice: Voice; zone: string | undefined }) {
  const at = (iso: string | null | undefined) => formatInstant(iso, zone);
  return (
    <section aria-labelledby="case-steps">
      <h2 id="case-steps">Steps</h2>
      <ol className="steps">
        {stepsOf(c).map(([name, s]) => {
          const info = stepWords(c, name);
          return (
            <li key={name} className={`step step-${s.status}`}>
              <h3>
                {info.title} <Status status={s.status} />
              </h3>
              <p>
                {s.status === 'done' ? (
                  <>
                    {info.done(voice)} <span className="muted">Done {at(s.at)}.</span>
                  </>
                ) : s.status === 'failed' ? (
                  <>
                    Failed {at(s.at)}
                    {s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}
                    {s.lastError ? `: ${s.lastError}` : '.'}
                  </>
                ) : (
                  <>
                    {info.pending(voice)}{' '}
                    {s.expectedBy ? (
                      <span className={s.status === 'late' ? 'late-text' : 'muted'}>
                        {s.status === 'late' ? `Late: it was expected by ${at(s.expectedBy)} and is still awaited` : `Expected by ${at(s.expectedBy)}`}
                        {s.attempts > 1 ? ` (${s.attempts} attempts${s.lastError ? `; last error: ${s.lastError}` : ''})` : ''}.
                      </span>
                    ) : null}
                  </>
                )}
              </p>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Timeline({ items: all, zone, systemNames }: { items: readonly TimelineEntry[]; zone: string | undefined; systemNames: ReadonlyMap<string, string> | undefined }) {
  // An entry about a connected system shows once the systems' names are known (a moment): never an id first.
  const items = systemNames === undefined ? all.filter((e) => typeof e.detail.systemId !== 'string') : all;
  return (
    <section aria-labelledby="case-timeline">
      <h2 id="case-timeline">Timeline</h2>
      {items.length === 0 ? (
        <p>Nothing recorded yet.</p>
      ) : (
        <ol className="timeline">
          {items.map((e, i) => (
            <li key={`${e.at}-${i}`}>
              <DateTime iso={e.at} {...(zone ? { timeZone: zone } : {})} />
              <span className="what">{withSystemName(e.summary, e.detail, systemNames)}</span>
              <span className="muted by">
                {e.actor.kind === 'person' ? `by ${e.actor.name ?? e.actor.id}` : `by ${e.actor.name ?? e.actor.id} (service)`} · {e.service}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The exit interview: when and with whom, in the reader's terms; add it to a calendar. */
function InterviewCard({
  c,
  voice,
  employee,
  interviews,
  current,
  partner,
}: {
  c: Resignation;
  voice: Voice;
  employee: Employee | undefined;
  interviews: Resource<{ items: Interview[] } | undefined>;
  current: Interview | undefined;
  partner: { name: string; email: string | undefined } | undefined;
}) {
  const session = useSession();
  const partnerName = partner?.name ?? current?.hrPartnerId;
  const partnerEmail = partner?.email;
  const zone = voice.self && employee ? employee.timezone : current?.timezone;
  return (
    <section aria-labelledby="case-interview" className="card interview">
      <h2 id="case-interview">{voice.self ? 'Your exit interview' : 'Exit interview'}</h2>
      <ErrorMessage error={interviews.error} />
      {interviews.data === undefined ? (
        interviews.error ? null : <Loading what="Loading the interview" />
      ) : !current ? (
        <p>{c.steps.scheduleInterview?.status === 'failed' ? 'No interview could be booked; HR will arrange it.' : 'Not booked yet: EMS is finding a time both of you work.'}</p>
      ) : (
        <>
          <p>
            <Status status={current.status} />{' '}
            {current.status === 'cancelled' ? 'Cancelled: it was planned for ' : current.status === 'held' ? 'Held: it took place on ' : ''}
            <strong>
              <time dateTime={current.start}>{formatInstant(current.start, zone)}</time>
            </strong>{' '}
            to <time dateTime={current.end}>{new Date(current.end).toLocaleTimeString(undefined, { timeStyle: 'short', ...(zone ? { timeZone: zone } : {}) })}</time>, with {partnerName}
            {voice.self ? ', your HR partner' : ' (HR partner)'}.
          </p>
          {current.status === 'scheduled' ? (
            <p className="actions-row">
              <a
                className="button secondary"
                download={`exit-interview-${current.start.slice(0, 10)}.ics`}
                href={calendarHref(
                  calendarFile({
                    uid: current.uid,
                    sequence: current.sequence,
                    start: current.start,
                    end: current.end,
                    summary: `Exit interview${voice.self ? ` with ${partnerName}` : `: ${c.employeeName} with ${partnerName}`}`,
                    description: `Exit interview of ${c.employeeName} with ${partnerName} (HR partner). The case: ${location.origin}${AppPaths.case(c.id)}`,
                    organizer: partnerEmail && partnerName ? { name: partnerName, email: partnerEmail } : undefined,
                  }),
                )}
              >
                Add to calendar (.ics)
              </a>
              {voice.self ? (
                <span className="muted">
                  The invite was also emailed to you: <Link to={AppPaths.mailbox}>mailbox</Link>.
                </span>
              ) : null}
              {session.has('hr_partner', 'hr_lead') ? <Link to={AppPaths.interview(current.id)}>Open the interview</Link> : null}
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}

/** The interview that counts: a scheduled or held one before a cancelled one, the newest first. */
function pickInterview(items: readonly Interview[]): Interview | undefined {
  const rank = (i: Interview) => (i.status === 'cancelled' ? 1 : 0);
  return [...items].sort((a, b) => rank(a) - rank(b) || b.createdAt.localeCompare(a.createdAt))[0];
}

/** Withdraw, with a confirmation first (and an optional note). */
function Withdraw({ c, voice, onDone }: { c: Resignation; voice: Voice; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState('');
  const [problem, setProblem] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const key = useRef<{ key: string; note: string } | null>(null);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmHeading.current?.focus();
  }, [confirming]);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const body = note.trim() ? { note: note.trim() } : {};
    if (!key.current || key.current.note !== note.trim()) key.current = { key: newIdempotencyKey(), note: note.trim() };
    setBusy(true);
    setProblem(undefined);
    try {
      await withdrawResignation(c.id, body, key.current.key);
      setConfirming(false);
      onDone();
    } catch (err) {
      setProblem(err);
    } finally {
      setBusy(false);
    }
  };
  const noteError = problem instanceof Problem ? problem.field('body.note') : undefined;
  return (
    <section aria-labelledby="case-withdraw" className="withdraw">
      <h2 id="case-withdraw">{voice.self ? 'Changed your mind?' : 'Withdraw the resignation'}</h2>
      {!confirming ? (
        <>
          <p>{voice.self ? 'Until HR decides, you may withdraw your resignation: your access comes back and the exit interview is cancelled.' : `Withdraw ${voice.whose} resignation on their behalf: their access comes back and the interview is cancelled.`}</p>
          <button type="button" className="secondary" ref={opener} onClick={() => setConfirming(true)}>
            {voice.self ? 'Withdraw my resignation…' : 'Withdraw…'}
          </button>
        </>
      ) : (
        <form onSubmit={(e) => void onSubmit(e)} className="confirm" noValidate>
          <h3 ref={confirmHeading} tabIndex={-1}>
            Withdraw {voice.self ? 'your' : voice.whose} resignation?
          </h3>
          <p>This cannot be undone: to leave later, {voice.self ? 'you resign' : 'they resign'} again.</p>
          <Field label="Note (optional)" hint="Why, in a sentence; HR sees it, the manager does not." error={noteError}>
            {({ id, describedBy, invalid }) => <textarea id={id} value={note} onChange={(e) => setNote(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
          {problem && !noteError ? <ErrorMessage error={problem} /> : null}
          <p className="actions-row">
            <button type="submit" className="danger" disabled={busy}>
              {busy ? 'Withdrawing…' : 'Yes, withdraw'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setConfirming(false);
                setProblem(undefined);
                setTimeout(() => opener.current?.focus(), 0);
              }}
            >
              {voice.self ? 'No, keep my resignation' : 'Cancel'}
            </button>
          </p>
        </form>
      )}
    </section>
  );
}
