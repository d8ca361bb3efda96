import { useCallback, useRef, useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem } from '../../api/client.ts';
import { cancelInterview, getEmployee, getHrPartner, getInterview, HrProblems, markInterviewHeld, rescheduleInterview, type Employee, type HrPartner, type Interview } from '../../api/hr.ts';
import type { LiveUpdate } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Field, Loading, Page, Status } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { describeWorkingDays } from '../../api/directory.ts';
import { calendarFile, calendarHref } from '../../components/calendar-file.ts';
import { fieldError, useSubmit } from './submit.ts';
import { formatSpan, fromLocalInput, toLocalInput, zoneCity } from './time.ts';

interface InterviewView {
  interview: Interview;
  employee: Employee | undefined;
  partner: HrPartner | undefined;
}

async function loadInterview(id: string, signal: AbortSignal): Promise<InterviewView> {
  const interview = await getInterview(id, signal);
  const [employee, partner] = await Promise.all([getEmployee(interview.employeeId, signal).catch(() => undefined), getHrPartner(interview.hrPartnerId, signal).catch(() => undefined)]);
  return { interview, employee, partner };
}

type WorkingHours = HrPartner['workingHours'];

function hoursWords(h: WorkingHours, timeZone: string): string {
  return `${describeWorkingDays(h.days)} ${h.start}–${h.end} (${zoneCity(timeZone)})`;
}

/**
 * One exit interview: when (in both people's zones), who, its status; HR moves it, marks it held with
 * notes, or cancels it. The employee sees their own (the API leaves the notes out) and can add it to a calendar.
 */
export function InterviewPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const session = useSession();
  const hr = session.has('hr_partner', 'hr_lead');
  const caseId = useRef<string | undefined>(undefined);
  // The case's updates (a decision cancels a scheduled interview) reload the page.
  const live = useCallback((u: LiveUpdate) => u.kind === 'reconnected' || (u.kind === 'case' && u.resignationId === caseId.current), []);
  const res = useResource((signal) => loadInterview(id, signal), [id], live);
  caseId.current = res.data?.interview.resignationId;
  const [done, setDone] = useState<string>();
  const view = res.data;
  const own = view?.interview.employeeId === session.personId;
  const title = !view ? 'Exit interview' : own ? 'Your exit interview' : `Exit interview with ${view.employee?.name ?? view.interview.employeeId}`;
  const changed = (message: string) => {
    setDone(message);
    res.reload();
  };
  return (
    <Page title={title}>
      {!view && res.error instanceof Problem && (res.error.status === 404 || res.error.status === 400) ? (
        <p>
          There is no interview {id ? <code>{id}</code> : null} that you may see. <Link to={hr ? AppPaths.inbox : AppPaths.cases}>{hr ? 'Go to your inbox' : 'See your case'}</Link>.
        </p>
      ) : (
        <ErrorMessage error={res.error} />
      )}
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
      {!view ? (
        res.error ? null : <Loading what="Loading the interview" />
      ) : (
        <>
          <InterviewFacts view={view} own={own} hr={hr} />
          {hr && view.interview.status === 'scheduled' ? (
            <>
              <RescheduleForm key={view.interview.start} view={view} onDone={changed} />
              <HeldForm interview={view.interview} onDone={changed} />
              <CancelForm view={view} onDone={changed} />
            </>
          ) : null}
          {hr && view.interview.status === 'held' && view.interview.notes === null ? <HeldForm interview={view.interview} onDone={changed} /> : null}
        </>
      )}
    </Page>
  );
}

function InterviewFacts({ view, own, hr }: { view: InterviewView; own: boolean; hr: boolean }) {
  const { interview: i, employee, partner } = view;
  const employeeName = employee?.name ?? i.employeeId;
  const summary = `Exit interview: ${employeeName} with ${partner?.name ?? 'HR'}`;
  return (
    <section aria-labelledby="interview-facts">
      <h2 id="interview-facts" className="visually-hidden">
        The interview
      </h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <Status status={i.status} />
          {i.heldAt ? (
            <>
              {' '}
              on <DateTime iso={i.heldAt} timeZone={i.timezone} />
            </>
          ) : null}
        </dd>
        <dt>Employee</dt>
        <dd>
          {employeeName}
          {employee ? <span className="muted"> · {employee.title}, {employee.department.name}</span> : null}
        </dd>
        <dt>HR partner</dt>
        <dd>{partner?.name ?? i.hrPartnerId}</dd>
        <dt>When{own ? '' : ' (HR partner’s time)'}</dt>
        <dd>{formatSpan(i.start, i.end, own && employee ? employee.timezone : i.timezone)}</dd>
        {employee && employee.timezone !== i.timezone ? (
          <>
            <dt>{own ? 'HR partner’s time' : 'Employee’s time'}</dt>
            <dd>{formatSpan(i.start, i.end, own ? i.timezone : employee.timezone)}</dd>
          </>
        ) : null}
        <dt>Case</dt>
        <dd>
          <Link to={AppPaths.case(i.resignationId)}>{own ? 'Your case' : `The case of ${employeeName}`}</Link>
        </dd>
        {hr && i.status === 'held' ? (
          <>
            <dt>Notes</dt>
            <dd className="hr-prewrap">{i.notes ?? <span className="muted">None recorded yet.</span>}</dd>
          </>
        ) : null}
      </dl>
      {i.status === 'scheduled' ? (
        <p>
          <a
            className="button secondary"
            href={calendarHref(calendarFile({ uid: i.uid, sequence: i.sequence, start: i.start, end: i.end, summary, description: `Exit interview of ${employeeName}.`, organizer: partner ? { name: partner.name, email: partner.email } : undefined }))}
            download="exit-interview.ics"
          >
            Add to your calendar (.ics file)
          </a>
        </p>
      ) : null}
    </section>
  );
}

function RescheduleForm({ view, onDone }: { view: InterviewView; onDone: (message: string) => void }) {
  const { interview: i, partner, employee } = view;
  const [start, setStart] = useState(() => toLocalInput(i.start, i.timezone));
  const submit = useSubmit<Interview>();
  const startError = fieldError(submit.error, 'body.start', [HrProblems.slotUnavailable, HrProblems.noFreeSlot]);
  const move = async (to: string | undefined) => {
    const body = to === undefined ? {} : { start: to };
    const moved = await submit.run(body, (key) => rescheduleInterview(i.id, body, key));
    if (moved) onDone(`Moved to ${formatSpan(moved.start, moved.end, moved.timezone)}. Both were sent an updated invitation.`);
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const instant = fromLocalInput(start, i.timezone);
    if (!instant) {
      submit.setError(new Error('Enter a date and a time.'));
      return;
    }
    void move(instant);
  };
  const hours = [partner ? `${partner.name}: ${hoursWords(partner.workingHours, partner.timezone)}` : null, employee ? `${employee.name}: ${hoursWords(employee.workingHours, employee.timezone)}` : null].filter(Boolean).join('; ');
  return (
    <section aria-labelledby="reschedule">
      <h2 id="reschedule">Move the interview</h2>
      <form onSubmit={onSubmit} noValidate>
        <Field label={`New start, in the HR partner’s time (${zoneCity(i.timezone)})`} hint={`30 minutes, in hours both of you work${hours ? ` — ${hours}` : ''}, before the last working day.`} error={startError}>
          {({ id, describedBy, invalid }) => <input id={id} type="datetime-local" step={900} value={start} onChange={(e) => setStart(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
        {startError ? null : <ErrorMessage error={submit.error} />}
        <div className="hr-actions">
          <button type="submit" disabled={submit.busy}>
            Move to this time
          </button>
          <button type="button" className="secondary" disabled={submit.busy} onClick={() => void move(undefined)}>
            Move to the next free slot
          </button>
        </div>
      </form>
    </section>
  );
}

function HeldForm({ interview: i, onDone }: { interview: Interview; onDone: (message: string) => void }) {
  const [notes, setNotes] = useState('');
  const submit = useSubmit<Interview>();
  const notesError = fieldError(submit.error, 'body.notes', [HrProblems.notesRecorded]);
  const later = i.status === 'held';
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const body = notes.trim() ? { notes } : {};
    void submit.run(body, () => markInterviewHeld(i.id, body)).then((held) => {
      if (held) onDone(later ? 'Notes recorded.' : 'Marked held.');
    });
  };
  return (
    <section aria-labelledby="held">
      <h2 id="held">{later ? 'Write up the notes' : 'Mark held'}</h2>
      {later ? null : (
        <p className="muted">
          Once it has started (<DateTime iso={i.start} timeZone={i.timezone} />
          ).
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
        <Field label="Notes of the conversation" hint="Only HR reads them. Once recorded they cannot be changed." error={notesError}>
          {({ id, describedBy, invalid }) => <textarea id={id} value={notes} onChange={(e) => setNotes(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} maxLength={10000} />}
        </Field>
        {notesError ? null : <ErrorMessage error={submit.error} />}
        <div className="hr-actions">
          <button type="submit" disabled={submit.busy || (later && !notes.trim())}>
            {later ? 'Record the notes' : 'Mark held'}
          </button>
        </div>
      </form>
    </section>
  );
}

function CancelForm({ view, onDone }: { view: InterviewView; onDone: (message: string) => void }) {
  const { interview: i, employee } = view;
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const askButton = useRef<HTMLButtonElement>(null);
  const submit = useSubmit<Interview>();
  const reasonError = fieldError(submit.error, 'body.reason');
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!confirming) {
      setConfirming(true);
      return;
    }
    const body = reason.trim() ? { reason: reason.trim() } : {};
    void submit.run(body, (key) => cancelInterview(i.id, body, key)).then((cancelled) => {
      setConfirming(false);
      if (cancelled) onDone('Cancelled. Both were sent a cancellation.');
    });
  };
  return (
    <section aria-labelledby="cancel">
      <h2 id="cancel">Cancel the interview</h2>
      <form onSubmit={onSubmit} noValidate>
        <Field label="Reason (optional)" hint="Kept with the cancellation." error={reasonError}>
          {({ id, describedBy, invalid }) => <textarea id={id} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} maxLength={500} readOnly={confirming} />}
        </Field>
        {reasonError ? null : <ErrorMessage error={submit.error} />}
        {confirming ? (
          <div className="hr-confirm" role="group" aria-labelledby="cancel-confirm">
            <p id="cancel-confirm">
              <strong>
                Cancel the interview with {employee?.name ?? i.employeeId} on {formatSpan(i.start, i.end, i.timezone)}?
              </strong>{' '}
              Both are sent a cancellation; this cannot be undone here.
            </p>
            <div className="hr-actions">
              <button type="submit" className="danger" disabled={submit.busy} autoFocus>
                Yes, cancel the interview
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setConfirming(false);
                  // The keyboard goes back to the button that asked.
                  setTimeout(() => askButton.current?.focus(), 0);
                }}
              >
                No, keep it
              </button>
            </div>
          </div>
        ) : (
          <div className="hr-actions">
            <button type="submit" className="secondary" ref={askButton}>
              Cancel the interview…
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
