import { useRef, useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem, newIdempotencyKey } from '../../api/client.ts';
import { addDays, describeWorkingDays, isoWeekday, nearestWorkingDay, todayIn, weekdayName } from '../../api/directory.ts';
import { OPEN_RESIGNATION_EXISTS, REASON_CATEGORIES, REASON_CATEGORY_WORDS, submitResignation, type ReasonCategory, type SubmitResignationRequest } from '../../api/ems.ts';
import { ErrorMessage, Field, formatDay, Page } from '../../components/ui.tsx';
import { Link, navigate } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { PersonPicker, PersonSummary, usePersonLookup } from '../../components/person-picker.tsx';
import { DayPicker } from './day-picker.tsx';
import { useOwnCase } from './own-case.ts';

const REASON_MAX = 2000;

/**
 * Resign: the last working day (only days the employee works, from their own calendar; empty → the notice
 * period) and a reason. HR partners and the HR lead may submit for an employee. After submitting: the case.
 */
export function ResignPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const forOthers = session.has('hr_partner', 'hr_lead');
  const [employeeId, setEmployeeId] = useState(forOthers && !session.has('employee') ? '' : session.personId);
  const [lastWorkingDay, setLastWorkingDay] = useState('');
  const [reason, setReason] = useState('');
  const [category, setCategory] = useState<ReasonCategory | ''>('');
  const [problem, setProblem] = useState<unknown>();
  const [dayError, setDayError] = useState<string>();
  const [submitting, setSubmitting] = useState(false);
  // One key per submission: a retry of the same request is the same request (the server answers the same case).
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const dayInput = useRef<HTMLInputElement>(null);
  const own = useOwnCase();

  // Whom the form is for (zone, working days), looked up as an HR person types an id; one's own at once.
  const lookup = usePersonLookup(employeeId, session.personId);

  const employee = lookup.state === 'found' ? lookup.employee : undefined;
  const self = employee?.id === session.personId;
  const today = employee ? todayIn(employee.timezone) : todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone);
  const maxDay = addDays(today, 366);
  const days = employee?.workingHours.days ?? [];

  /** What is wrong with the picked day, before asking the server (which checks the same). */
  const checkDay = (day: string): string | undefined => {
    if (!day || !employee) return undefined;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return 'Enter the day as a date, e.g. 2027-01-29.';
    if (day < today) return `${formatDay(day)} is in the past (today is ${formatDay(today)} in ${employee.timezone}).`;
    if (day > maxDay) return `${formatDay(day)} is more than a year ahead.`;
    if (!days.includes(isoWeekday(day))) return `${formatDay(day)} is a ${weekdayName(isoWeekday(day))}: ${self ? 'you do' : `${employee.name} does`} not work that day (${self ? 'you work' : 'works'} ${describeWorkingDays(days)}). Pick a working day.`;
    return undefined;
  };
  const suggestion = dayError && lastWorkingDay && employee ? nearestWorkingDay(lastWorkingDay, days, today) : null;

  const fieldProblem = (path: string) => (problem instanceof Problem ? problem.field(path) : undefined);
  const employeeError = fieldProblem('body.employeeId') ?? (lookup.state === 'missing' ? lookup.message : undefined) ?? (problem instanceof Problem && problem.status === 404 ? problem.detail : undefined);
  const dayProblem = dayError ?? fieldProblem('body.lastWorkingDay');
  const categoryProblem = fieldProblem('body.reasonCategory');
  const reasonProblem = fieldProblem('body.reason') ?? (reason.length > REASON_MAX ? `At most ${REASON_MAX} characters (${reason.length} now).` : undefined);
  // The general message: what no field shows.
  const shownByField = problem instanceof Problem && (problem.errors.length > 0 || problem.status === 404);
  const openCaseId = problem instanceof Problem && problem.type === OPEN_RESIGNATION_EXISTS && typeof problem.body.resignationId === 'string' ? problem.body.resignationId : undefined;

  const pickDay = (day: string) => {
    setLastWorkingDay(day);
    setDayError(checkDay(day));
    if (problem instanceof Problem && problem.field('body.lastWorkingDay')) setProblem(undefined);
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const localDayError = checkDay(lastWorkingDay);
    setDayError(localDayError);
    if (localDayError) {
      dayInput.current?.focus();
      return;
    }
    if (reason.length > REASON_MAX) return;
    const body: SubmitResignationRequest = {
      employeeId: employeeId.trim(),
      ...(lastWorkingDay ? { lastWorkingDay } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
      ...(category ? { reasonCategory: category } : {}),
    };
    const fingerprint = JSON.stringify(body);
    if (!attempt.current || attempt.current.body !== fingerprint) attempt.current = { key: newIdempotencyKey(), body: fingerprint };
    setSubmitting(true);
    setProblem(undefined);
    try {
      const created = await submitResignation(body, attempt.current.key);
      navigate(AppPaths.case(created.id));
    } catch (err) {
      // Nothing typed is lost: the fields keep their values; the server's words go next to the field concerned.
      setProblem(err);
      setSubmitting(false);
    }
  };

  return (
    <Page title={forOthers && !session.has('employee') ? 'Submit a resignation' : 'Resign'}>
      <p>
        {forOthers
          ? 'Submit a resignation for yourself or, as HR, for an employee you look after. '
          : 'Tell EMS you are leaving. '}
        Once submitted, the manager is told, an exit interview is booked with the HR partner, and critical access is suspended until HR decides. You can follow every step on the case page.
      </p>
      {own.openId && employeeId.trim() === session.personId ? (
        <div className="notice" role="status">
          <p>
            You have already resigned and your case is open: <Link to={AppPaths.case(own.openId)}>follow it here</Link>. You can resign again once it is closed.
          </p>
        </div>
      ) : null}
      <form onSubmit={(e) => void onSubmit(e)} noValidate aria-describedby={problem && !shownByField ? 'resign-problem' : undefined}>
        {forOthers ? (
          <PersonPicker
            employeeId={employeeId}
            hint="The directory id, e.g. E1010. Search by name below if you do not know it."
            error={employeeError}
            required
            onChange={(id, how) => {
              setEmployeeId(id);
              if (how === 'typed') {
                setDayError(undefined);
                if (problem) setProblem(undefined);
              }
            }}
          />
        ) : employeeError ? (
          <p className="field-error">{employeeError}</p>
        ) : null}
        <PersonSummary lookup={lookup} self={self} />

        <Field
          label="Last working day"
          hint={`Optional. Leave it empty to end at the notice period (EMS picks ${self ? 'your' : 'their'} working day). ${employee ? `Only a day ${self ? 'you work' : 'they work'} (${describeWorkingDays(days)}), from today to a year ahead: type it, or pick it in the calendar below, which offers only those days.` : ''}`}
          error={dayProblem}
        >
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              ref={dayInput}
              name="lastWorkingDay"
              type="date"
              min={today}
              max={maxDay}
              value={lastWorkingDay}
              onChange={(e) => pickDay(e.target.value)}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              disabled={!employee}
            />
          )}
        </Field>
        {employee ? <DayPicker value={lastWorkingDay} min={today} max={maxDay} workingDays={days} onPick={pickDay} label="Calendar of the days that can be picked" /> : null}
        {suggestion && suggestion !== lastWorkingDay ? (
          <p className="suggest">
            <button type="button" className="secondary" onClick={() => pickDay(suggestion)}>
              Use {formatDay(suggestion)} instead
            </button>
          </p>
        ) : null}
        {lastWorkingDay && !dayProblem ? <p className="muted">Last working day: {formatDay(lastWorkingDay)}.</p> : null}

        <Field label="Reason category" hint="Optional: HR's exit report counts exits by it." error={categoryProblem}>
          {({ id, describedBy, invalid }) => (
            <select id={id} name="reasonCategory" value={category} onChange={(e) => setCategory(e.target.value as ReasonCategory | '')} aria-describedby={describedBy} aria-invalid={invalid}>
              <option value="">Not given</option>
              {REASON_CATEGORIES.map((c) => (
                <option key={c} value={c}>
                  {REASON_CATEGORY_WORDS[c]}
                </option>
              ))}
            </select>
          )}
        </Field>

        <Field label="Reason" hint={`Optional, up to ${REASON_MAX} characters. Your manager does not see it; HR does.`} error={reasonProblem}>
          {({ id, describedBy, invalid }) => (
            <textarea id={id} name="reason" value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} maxLength={REASON_MAX + 500} />
          )}
        </Field>

        {problem && !shownByField ? (
          <div id="resign-problem">
            <ErrorMessage error={problem} />
            {openCaseId ? (
              <p>
                <Link to={AppPaths.case(openCaseId)}>Open the case that is already open</Link>
              </p>
            ) : null}
          </div>
        ) : null}

        <p>
          <button type="submit" disabled={submitting || !employee}>
            {submitting ? 'Submitting…' : 'Submit resignation'}
          </button>
        </p>
      </form>
    </Page>
  );
}
