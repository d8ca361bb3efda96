import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Problem } from '../../api/client.ts';
import { decideResignation, type DecisionRequest, type Resignation } from '../../api/ems.ts';
import { getEmployeeAccess, listHolds } from '../../api/access.ts';
import { describeWorkingDays, getEmployee } from '../../api/directory.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, Field, formatDay, Loading, Status } from '../../components/ui.tsx';
import { useSession } from '../../components/session.tsx';
import { fieldError, useSubmit } from './submit.ts';
import { addDays, browserZone, dayIn, zoneCity } from './time.ts';

const DECIDABLE: readonly string[] = ['awaiting_decision', 'action_required'];
type Choice = 'retained' | 'exit_confirmed';
type Sent = { decision: Choice; lastWorkingDay?: string; accepted: boolean };

/**
 * On the case page, for the HR partner and the HR lead: decide a case awaiting a decision (or needing
 * action) — retain, or confirm the exit with a last working day — seeing the employee's access beside it;
 * a confirmation step before sending. Once an exit is confirmed, the last working day can still be moved.
 */
export function DecisionPanel({ resignation: c, onDecided }: { resignation: Resignation; onDecided: () => void }) {
  const session = useSession();
  const [sent, setSent] = useState<Sent>();
  const hr = session.has('hr_partner', 'hr_lead');
  const open = DECIDABLE.includes(c.status);
  const moving = c.status === 'exit_confirmed';
  if (!hr) return null;
  return (
    <section aria-labelledby="decision-panel" className="hr-decision-panel">
      {open || moving || sent ? (
        <h2 id="decision-panel">{moving && !sent ? 'Move the last working day' : 'Decision'}</h2>
      ) : null}
      {sent ? <SentNotice sent={sent} c={c} /> : null}
      {(open || moving) && !sent ? (
        <div className="hr-decision-grid">
          <DecisionForm
            c={c}
            moving={moving}
            onSent={(s) => {
              setSent(s);
              onDecided();
            }}
          />
          <AccessSummary c={c} />
        </div>
      ) : null}
    </section>
  );
}

function SentNotice({ sent, c }: { sent: Sent; c: Resignation }) {
  const what = sent.decision === 'retained' ? `${c.employeeName} is retained` : `${c.employeeName}’s exit is confirmed, last working day ${formatDay(sent.lastWorkingDay ?? c.lastWorkingDay)}`;
  return (
    <p className="notice" role="status">
      <strong>Decision sent: {what}.</strong>{' '}
      {sent.accepted ? 'EMS accepted it and is carrying it out: this page updates when it is done.' : 'It is recorded; what it sets off is shown in the steps below.'}
    </p>
  );
}

function DecisionForm({ c, moving, onSent }: { c: Resignation; moving: boolean; onSent: (s: Sent) => void }) {
  const employee = useResource((signal) => getEmployee(c.employeeId, signal), [c.employeeId]);
  const zone = employee.data?.timezone ?? browserZone();
  const hours = employee.data?.workingHours;
  const today = dayIn(new Date(), zone);
  const [choice, setChoice] = useState<Choice | undefined>(moving ? 'exit_confirmed' : undefined);
  const [lastDay, setLastDay] = useState(c.lastWorkingDay >= today ? c.lastWorkingDay : '');
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [choiceMissing, setChoiceMissing] = useState(false);
  const submit = useSubmit<Awaited<ReturnType<typeof decideResignation>>>();
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const dayInput = useRef<HTMLInputElement>(null);
  const reviewButton = useRef<HTMLButtonElement>(null);
  const [changing, setChanging] = useState(false);
  useEffect(() => {
    if (confirming) confirmHeading.current?.focus();
    // "Change it": the keyboard is back where the person left the form.
    else if (changing) {
      reviewButton.current?.focus();
      setChanging(false);
    }
  }, [confirming, changing]);

  const dayError = fieldError(submit.error, 'body.lastWorkingDay') ?? (submit.error instanceof Problem && submit.error.status === 409 && /last working day/i.test(submit.error.detail) ? submit.error.detail : undefined);
  const noteError = fieldError(submit.error, 'body.note');
  const byField = Boolean(dayError || noteError);
  // Back from the confirmation with the day refused: the keyboard lands on the field to fix.
  useEffect(() => {
    if (dayError && !confirming) dayInput.current?.focus();
  }, [dayError, confirming]);

  const body = (): DecisionRequest => ({
    decision: choice ?? 'retained',
    ...(choice === 'exit_confirmed' && lastDay ? { lastWorkingDay: lastDay } : {}),
    ...(note.trim() ? { note: note.trim() } : {}),
  });

  const onReview = (e: FormEvent) => {
    e.preventDefault();
    if (!choice) {
      setChoiceMissing(true);
      return;
    }
    submit.setError(undefined);
    setConfirming(true);
  };
  const onSend = () => {
    const request = body();
    void submit.run(request, (key) => decideResignation(c.id, request, key)).then((answer) => {
      if (answer === undefined) {
        // Back to the form when the server named a field: the person fixes it there, nothing lost.
        setConfirming(false);
        return;
      }
      onSent({ decision: request.decision, ...(request.lastWorkingDay ? { lastWorkingDay: request.lastWorkingDay } : {}), accepted: 'status' in answer && answer.status === 'accepted' });
    });
  };

  if (confirming && choice) {
    const day = lastDay || c.lastWorkingDay;
    return (
      <div className="hr-confirm" role="group" aria-labelledby="decision-confirm">
        <h3 id="decision-confirm" ref={confirmHeading} tabIndex={-1}>
          Check before sending
        </h3>
        {choice === 'retained' ? (
          <p>
            <strong>Retain {c.employeeName}.</strong> The resignation is off: the access suspended for this case comes back, a scheduled interview is cancelled, and {c.employeeName} and their manager are told.
          </p>
        ) : (
          <p>
            <strong>
              {moving ? 'Move' : 'Confirm'} {c.employeeName}’s exit{moving ? ' to' : ' with'} the last working day {formatDay(day)}.
            </strong>{' '}
            Every remaining grant is revoked at the end of that day ({zoneCity(zone)} time), and {c.employeeName} and their manager are told.
          </p>
        )}
        {note.trim() ? (
          <p>
            Note: <span className="hr-prewrap">{note.trim()}</span>
          </p>
        ) : null}
        <ErrorMessage error={byField ? undefined : submit.error} />
        <div className="hr-actions">
          <button type="button" onClick={onSend} disabled={submit.busy}>
            {submit.busy ? 'Sending…' : 'Send the decision'}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setConfirming(false);
              setChanging(true);
            }}
            disabled={submit.busy}
          >
            Change it
          </button>
        </div>
      </div>
    );
  }

  return (
    <form onSubmit={onReview} noValidate aria-label={moving ? 'Move the last working day' : 'Decide the case'}>
      {moving ? (
        <p>
          The exit is confirmed with the last working day {formatDay(c.lastWorkingDay)}. Choose another day to move it (and the revocation with it).
        </p>
      ) : (
        <fieldset aria-describedby={choiceMissing ? 'decision-choice-error' : undefined}>
          <legend>What did you decide?</legend>
          <div className="hr-choice">
            <input type="radio" id="decision-retain" name="decision" value="retained" checked={choice === 'retained'} onChange={() => {
                setChoice('retained');
                setChoiceMissing(false);
              }} />
            <label htmlFor="decision-retain">
              <strong>Retain</strong> — the resignation is off; suspended access comes back
            </label>
          </div>
          <div className="hr-choice">
            <input type="radio" id="decision-exit" name="decision" value="exit_confirmed" checked={choice === 'exit_confirmed'} onChange={() => {
                setChoice('exit_confirmed');
                setChoiceMissing(false);
              }} />
            <label htmlFor="decision-exit">
              <strong>Confirm the exit</strong> — access is revoked at the end of the last working day
            </label>
          </div>
          {choiceMissing ? (
            <p className="field-error" id="decision-choice-error">
              Choose retain or confirm the exit.
            </p>
          ) : null}
        </fieldset>
      )}
      {choice === 'exit_confirmed' ? (
        <Field
          label="Last working day"
          hint={`${hours ? `A day ${c.employeeName} works (${describeWorkingDays(hours.days)}, ${zoneCity(zone)}). ` : ''}Submitted: ${formatDay(c.lastWorkingDay)}.`}
          error={dayError}
        >
          {({ id, describedBy, invalid }) => <input ref={dayInput} id={id} type="date" min={today} max={addDays(today, 366 * 2)} value={lastDay} onChange={(e) => setLastDay(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
      ) : null}
      <Field label="Note (optional)" hint={`${c.employeeName} can read it on their case; their manager cannot.`} error={noteError}>
        {({ id, describedBy, invalid }) => <textarea id={id} value={note} onChange={(e) => setNote(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} maxLength={2000} />}
      </Field>
      {byField ? null : <ErrorMessage error={submit.error} />}
      <div className="hr-actions">
        <button type="submit" ref={reviewButton}>
          Review the decision
        </button>
      </div>
    </form>
  );
}

/** Which of the employee's grants this case's hold suspended: what retaining restores and an exit revokes. */
function AccessSummary({ c }: { c: Resignation }) {
  const access = useResource(
    async (signal) => {
      const [grants, holds] = await Promise.all([getEmployeeAccess(c.employeeId, signal), listHolds({ resignationId: c.id }, signal)]);
      const held = new Set(holds.items.filter((h) => h.status === 'active').flatMap((h) => h.suspendedGrants.map((g) => g.grantId)));
      return { grants: grants.items, held };
    },
    [c.employeeId, c.id, c.updatedAt],
  );
  const held = access.data ? access.data.grants.filter((g) => access.data!.held.has(g.grantId)) : [];
  return (
    <div className="hr-access-summary">
      <h3 id="decision-access">{c.employeeName}’s access</h3>
      <ErrorMessage error={access.error} />
      {!access.data ? (
        access.error ? null : <Loading what="Loading their access" />
      ) : (
        <>
          <p>
            {held.length === 0
              ? 'Nothing is suspended by this case’s hold.'
              : `${held.length} ${held.length === 1 ? 'grant is' : 'grants are'} suspended by this case’s hold: ${held.map((g) => g.systemName).join(', ')}.`}
          </p>
          <div className="table-wrap">
            <table aria-labelledby="decision-access">
              <thead>
                <tr>
                  <th scope="col">System</th>
                  <th scope="col">Status</th>
                  <th scope="col">Held by this case</th>
                </tr>
              </thead>
              <tbody>
                {access.data.grants.map((g) => (
                  <tr key={g.grantId}>
                    <td>
                      {g.systemName}
                      {g.critical ? <span className="muted"> · critical</span> : null}
                    </td>
                    <td>
                      <Status status={g.status} />
                    </td>
                    <td>{access.data!.held.has(g.grantId) ? 'Yes' : 'No'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
