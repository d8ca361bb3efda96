import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem, newIdempotencyKey } from '../../api/client.ts';
import { todayIn } from '../../api/directory.ts';
import {
  countCsvPeople,
  csvHeaderOk,
  EXIT_REASON_WORDS,
  EXIT_REASONS,
  exitRowErrors,
  MAX_EXITS_CSV_BYTES,
  MAX_EXITS_PER_BATCH,
  startExits,
  startExitsFromCsv,
  type ExitReason,
  type ExitRowError,
  type ExitsStarted,
  type ExitTerms,
} from '../../api/exits.ts';
import { ConfirmDialog } from '../../components/confirm.tsx';
import { DataTable } from '../../components/data-table.tsx';
import { PersonPicker, PersonSummary, usePersonLookup } from '../../components/person-picker.tsx';
import { navigate } from '../../components/router.tsx';
import { ErrorMessage, Field, formatDay, formatInstant, Page } from '../../components/ui.tsx';
import { browserZone, fromLocalInput, toLocalInput } from '../hr/time.ts';
import { ExitBatches } from './batches.tsx';

/**
 * End employment (HR lead): an involuntary exit of one person, or a mass exit from a CSV file; below the form,
 * the batches already started (newest first), each linking to its progress.
 *
 *   one person (directory) ─┐
 *                           ├─► reason, revoke when, note ──► "Review…" ──► confirmation (what happens, to how many)
 *   a CSV file ─────────────┘                                                     │ Idempotency-Key: one per request
 *                                                                                 ▼
 *                         422: every refused row, nothing started  ◄──  POST /api/exits  ──►  202: the batch's progress page
 *
 * The key is kept while the same request is retried (a double click, a network error: the server answers the
 * same batch) and a new one is taken when what is sent changes or the server gave a definite answer.
 */

const NOTE_MAX = 2000;
/** The server refuses a revokeAt more than 366 days ahead; a day less here, so a slow confirmation is not refused. */
const REVOKE_MAX_DAYS = 365;

type Who = 'one' | 'file';

interface Chosen {
  name: string;
  size: number;
  text: string;
  people: number;
  /** Counts up with each file chosen: the same name chosen again is another file. */
  serial: number;
}

/** The request the confirmation describes, fixed when it opens. */
interface Pending {
  fingerprint: string;
  people: number;
  /** One person's name (a single exit), or the file's name. */
  label: string;
  terms: ExitTerms;
  send: (key: string) => Promise<ExitsStarted>;
}

const people = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'person' : 'people'}`;
const sizeWords = (bytes: number) => (bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

export function EndEmploymentPage(_props: { params: Record<string, string> }) {
  const zone = browserZone();
  const [who, setWho] = useState<Who>('one');
  const [employeeId, setEmployeeId] = useState('');
  const [lastDay, setLastDay] = useState('');
  const [chosen, setChosen] = useState<Chosen>();
  const [fileError, setFileError] = useState<string>();
  const [reason, setReason] = useState<ExitReason | ''>('');
  const [revokeWhen, setRevokeWhen] = useState<'end_of_day' | 'at'>('end_of_day');
  const [revokeLocal, setRevokeLocal] = useState('');
  const [note, setNote] = useState('');
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [pending, setPending] = useState<Pending>();
  const [busy, setBusy] = useState(false);
  const [sendError, setSendError] = useState<unknown>();
  const [problem, setProblem] = useState<unknown>();
  const [refused, setRefused] = useState<{ detail: string; rows: ExitRowError[]; label: string }>();
  const serial = useRef(0);
  /** The key of the request being confirmed: kept across retries of the same request. */
  const attempt = useRef<{ fingerprint: string; key: string } | null>(null);
  const refusedHeading = useRef<HTMLHeadingElement>(null);
  const fileId = useId();
  const whoId = useId();
  const revokeId = useId();

  // The person, looked up as the id is typed (or picked): their name, zone and working days for the confirmation.
  const lookup = usePersonLookup(employeeId);

  useEffect(() => {
    if (refused) refusedHeading.current?.focus();
  }, [refused]);

  const employee = lookup.state === 'found' ? lookup.employee : undefined;
  const today = employee ? todayIn(employee.timezone) : undefined;

  const choose = (file: File | undefined) => {
    setFileError(undefined);
    setRefused(undefined);
    if (!file) return;
    if (file.size === 0) return setFileError(`${file.name} is empty.`);
    if (file.size > MAX_EXITS_CSV_BYTES) return setFileError(`${file.name} is ${sizeWords(file.size)}; a file may be up to ${sizeWords(MAX_EXITS_CSV_BYTES)}. Split it, or use the API.`);
    file.text().then(
      (text) => {
        if (!csvHeaderOk(text)) {
          setChosen(undefined);
          setFileError(`${file.name} has no employee_id column: its first line must be the header employee_id (and, optionally, last_working_day).`);
          return;
        }
        const n = countCsvPeople(text);
        if (n === 0) {
          setChosen(undefined);
          setFileError(`${file.name} names nobody: it has a header and no rows.`);
          return;
        }
        if (n > MAX_EXITS_PER_BATCH) {
          setChosen(undefined);
          setFileError(`${file.name} names ${people(n)}; one batch may have up to ${people(MAX_EXITS_PER_BATCH)}. Split it.`);
          return;
        }
        setChosen({ name: file.name, size: file.size, text, people: n, serial: ++serial.current });
      },
      (err: unknown) => setFileError(`${file.name} could not be read (${err instanceof Error ? err.message : String(err)}). Choose it again.`),
    );
  };

  /** Checks the form and fixes the request the confirmation will describe. */
  const review = (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    setRefused(undefined);
    const errors: Record<string, string> = {};
    if (who === 'one') {
      if (!employee) errors.employee = lookup.state === 'missing' ? lookup.message : 'Pick the person: type their id or find them by name.';
      else if (lastDay && today && lastDay < today) errors.lastDay = `${formatDay(lastDay)} is in the past (today is ${formatDay(today)} in ${employee.timezone}).`;
    } else if (!chosen) errors.file = fileError ?? 'Choose the CSV file.';
    if (!reason) errors.reason = 'Choose the reason.';
    let revokeAt: string | undefined;
    if (revokeWhen === 'at') {
      revokeAt = fromLocalInput(revokeLocal, zone);
      if (!revokeAt) errors.revokeAt = 'Enter the date and time access is revoked.';
      else if (new Date(revokeAt).getTime() <= Date.now()) errors.revokeAt = `${formatInstant(revokeAt)} has passed: choose a later time, or the end of the last working day.`;
      else if (new Date(revokeAt).getTime() > Date.now() + REVOKE_MAX_DAYS * 86_400_000) errors.revokeAt = `${formatInstant(revokeAt)} is more than a year ahead: EMS revokes access within a year.`;
    }
    if (note.trim().length > NOTE_MAX) errors.note = `At most ${NOTE_MAX} characters (${note.trim().length} now).`;
    setLocalErrors(errors);
    if (Object.keys(errors).length > 0 || !reason) {
      const first = Object.keys(errors)[0];
      document.querySelector<HTMLElement>(`[data-focus="${first}"]`)?.focus();
      return;
    }
    const terms: ExitTerms = { reason, ...(revokeAt ? { revokeAt } : {}), ...(note.trim() ? { note: note.trim() } : {}) };
    if (who === 'one' && employee) {
      const body = { employees: [{ employeeId: employee.id, ...(lastDay ? { lastWorkingDay: lastDay } : {}) }], ...terms };
      setPending({ fingerprint: JSON.stringify(body), people: 1, label: employee.name, terms, send: (key) => startExits(body, key) });
    } else if (chosen) {
      const file = chosen;
      setPending({ fingerprint: JSON.stringify({ file: file.serial, ...terms }), people: file.people, label: file.name, terms, send: (key) => startExitsFromCsv(file.text, terms, key) });
    }
    setSendError(undefined);
  };

  const confirm = () => {
    if (!pending || busy) return;
    if (attempt.current?.fingerprint !== pending.fingerprint) attempt.current = { fingerprint: pending.fingerprint, key: newIdempotencyKey() };
    const { key } = attempt.current;
    setBusy(true);
    setSendError(undefined);
    pending.send(key).then(
      (started) => {
        attempt.current = null;
        navigate(AppPaths.exitBatch(started.id));
      },
      (err: unknown) => {
        setBusy(false);
        const rows = exitRowErrors(err);
        if (rows) {
          // A definite answer: nothing was started. A new request (a fixed file) takes a new key.
          attempt.current = null;
          setPending(undefined);
          setRefused({ detail: err instanceof Error ? err.message : '', rows, label: pending.label });
        } else if (err instanceof Problem && err.status >= 400 && err.status < 500) {
          // Refused as a whole (a field, the role): said at the form; the same request would be refused again.
          attempt.current = null;
          setPending(undefined);
          setProblem(err);
        } else {
          // No answer, or the server failed: it may have started the batch. Retrying sends the same key.
          setSendError(err);
        }
      },
    );
  };

  const fieldProblem = (...paths: string[]) => (problem instanceof Problem ? paths.map((p) => problem.field(p)).find(Boolean) : undefined);
  const revokeProblem = localErrors.revokeAt ?? fieldProblem('body.revokeAt', 'querystring.revokeAt');
  const noteProblem = localErrors.note ?? fieldProblem('body.note', 'querystring.note');
  const reasonProblem = localErrors.reason ?? fieldProblem('body.reason', 'querystring.reason');
  const shownByField = Boolean(fieldProblem('body.revokeAt', 'querystring.revokeAt', 'body.note', 'querystring.note', 'body.reason', 'querystring.reason'));

  return (
    <Page title="End employment">
      <p>
        End the employment of one person, or of many at once from a CSV file (a mass exit). For each person EMS suspends <strong>every grant at once</strong> — critical access first, before any email — then tells
        them and their manager by email, and revokes every grant at the end of their last working day or at the time you give. Each person gets their own case; there is no exit interview and no retention
        decision.
      </p>
      <form onSubmit={review} noValidate aria-describedby={problem && !shownByField ? 'exit-problem' : undefined}>
        <fieldset>
          <legend id={whoId}>Whose employment ends</legend>
          <div className="exit-choice">
            <input type="radio" id="exit-who-one" name="who" value="one" checked={who === 'one'} onChange={() => setWho('one')} />
            <label htmlFor="exit-who-one">One person, from the directory</label>
          </div>
          <div className="exit-choice">
            <input type="radio" id="exit-who-file" name="who" value="file" checked={who === 'file'} onChange={() => setWho('file')} />
            <label htmlFor="exit-who-file">A list of people: a CSV file</label>
          </div>
        </fieldset>

        {who === 'one' ? (
          <>
            <PersonPicker
              employeeId={employeeId}
              hint="The directory id, e.g. E1010. Or find them by name below."
              error={localErrors.employee ?? (lookup.state === 'missing' ? lookup.message : undefined)}
              focusKey="employee"
              onChange={(id) => {
                setEmployeeId(id);
                setLocalErrors(({ employee: _, ...rest }) => rest);
              }}
            />
            <PersonSummary lookup={lookup} />
            <Field label="Last working day" hint={`Optional: empty means today${employee ? ` in ${employee.timezone}` : ''}. Not in the past.`} error={localErrors.lastDay}>
              {({ id, describedBy, invalid }) => (
                <input id={id} data-focus="lastDay" type="date" name="lastWorkingDay" value={lastDay} min={today} onChange={(e) => setLastDay(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} disabled={!employee} />
              )}
            </Field>
          </>
        ) : (
          <div className={localErrors.file || fileError ? 'field invalid' : 'field'}>
            <label htmlFor={fileId}>CSV file</label>
            <p className="hint" id={`${fileId}-hint`}>
              UTF-8, up to {sizeWords(MAX_EXITS_CSV_BYTES)} and {people(MAX_EXITS_PER_BATCH)}. The header first: <code>employee_id</code> and, optionally, <code>last_working_day</code> (YYYY-MM-DD; empty: today in
              the person’s time zone). One person a row.
            </p>
            <input
              id={fileId}
              data-focus="file"
              type="file"
              accept=".csv,text/csv"
              aria-describedby={[`${fileId}-hint`, localErrors.file || fileError ? `${fileId}-error` : ''].filter(Boolean).join(' ')}
              aria-invalid={Boolean(localErrors.file || fileError)}
              onClick={(e) => {
                // The same file chosen again (fixed meanwhile) must be read again.
                e.currentTarget.value = '';
              }}
              onChange={(e) => {
                setLocalErrors(({ file: _, ...rest }) => rest);
                choose(e.target.files?.[0]);
              }}
            />
            {localErrors.file || fileError ? (
              <p className="field-error" id={`${fileId}-error`} role="alert">
                {fileError ?? localErrors.file}
              </p>
            ) : null}
            {chosen ? (
              <p className="exit-chosen" role="status">
                Chosen: <strong className="wrap-anywhere">{chosen.name}</strong> ({sizeWords(chosen.size)}): {people(chosen.people)}.
              </p>
            ) : null}
          </div>
        )}

        <Field label="Reason" hint="HR's exit report groups exits by it. Neither the employee nor the manager is told it." error={reasonProblem}>
          {({ id, describedBy, invalid }) => (
            <select
              id={id}
              data-focus="reason"
              name="reason"
              value={reason}
              onChange={(e) => {
                setReason(e.target.value as ExitReason | '');
                setLocalErrors(({ reason: _, ...rest }) => rest);
              }}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            >
              <option value="">Choose…</option>
              {EXIT_REASONS.map((r) => (
                <option key={r} value={r}>
                  {EXIT_REASON_WORDS[r]}
                </option>
              ))}
            </select>
          )}
        </Field>

        <fieldset aria-describedby={revokeProblem ? `${revokeId}-error` : undefined}>
          <legend>When every grant is revoked</legend>
          <div className="exit-choice">
            <input type="radio" id="exit-revoke-eod" name="revokeWhen" checked={revokeWhen === 'end_of_day'} onChange={() => setRevokeWhen('end_of_day')} />
            <label htmlFor="exit-revoke-eod">At the end of the last working day, in each person’s time zone</label>
          </div>
          <div className="exit-choice">
            <input type="radio" id="exit-revoke-at" name="revokeWhen" checked={revokeWhen === 'at'} onChange={() => setRevokeWhen('at')} />
            <label htmlFor="exit-revoke-at">At a time I give</label>
          </div>
          {revokeWhen === 'at' ? (
            <div className={revokeProblem ? 'field invalid' : 'field'}>
              <label htmlFor="exit-revokeAt">Revoke at (your time, {zone})</label>
              <input
                id="exit-revokeAt"
                data-focus="revokeAt"
                type="datetime-local"
                min={toLocalInput(new Date().toISOString(), zone)}
                max={toLocalInput(new Date(Date.now() + REVOKE_MAX_DAYS * 86_400_000).toISOString(), zone)}
                value={revokeLocal}
                onChange={(e) => {
                  setRevokeLocal(e.target.value);
                  setLocalErrors(({ revokeAt: _, ...rest }) => rest);
                }}
                aria-invalid={Boolean(revokeProblem)}
                aria-describedby={revokeProblem ? `${revokeId}-error` : undefined}
              />
            </div>
          ) : null}
          {revokeProblem ? (
            <p className="field-error" id={`${revokeId}-error`}>
              {revokeProblem}
            </p>
          ) : null}
        </fieldset>

        <Field label="Note (optional)" hint={`For HR only, up to ${NOTE_MAX} characters: kept on each case; never sent to the employee or the manager.`} error={noteProblem}>
          {({ id, describedBy, invalid }) => <textarea id={id} data-focus="note" name="note" value={note} onChange={(e) => setNote(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>

        {problem && !shownByField ? (
          <div id="exit-problem">
            <ErrorMessage error={problem} />
          </div>
        ) : null}

        <p>
          <button type="submit">Review…</button>
        </p>
      </form>

      {refused ? (
        <section aria-labelledby="exit-refused-h" className="exit-refused">
          <h2 id="exit-refused-h" ref={refusedHeading} tabIndex={-1}>
            Nothing was started
          </h2>
          <p>
            {refused.detail} EMS checks every person first and starts nobody while one is refused: fix {refused.rows.length === 1 ? 'this row' : `these ${refused.rows.length} rows`} in{' '}
            <span className="wrap-anywhere">{refused.label}</span> and review again. {who === 'file' ? 'Rows are numbered as in a spreadsheet: the header is row 1.' : ''}
          </p>
          <DataTable label="Refused people, by row" columns={['Row', 'Employee', 'Why']}>
            {refused.rows.map((r, i) => (
              <tr key={i}>
                <td>{r.row}</td>
                <td>{r.employeeId ? <code className="wrap">{r.employeeId}</code> : <span className="muted">{r.row === 1 ? 'the header' : 'none'}</span>}</td>
                <td className="wrap-anywhere">{r.error}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}

      <ExitBatches />

      <ConfirmDialog
        open={pending !== undefined}
        title={pending ? (pending.people === 1 && who === 'one' ? `End ${pending.label}'s employment?` : `End the employment of ${people(pending.people)}?`) : 'End employment?'}
        confirmLabel={pending ? (pending.people === 1 ? 'End employment' : `End employment of ${people(pending.people)}`) : 'End employment'}
        danger
        busy={busy}
        error={sendError}
        onConfirm={confirm}
        onCancel={() => {
          setPending(undefined);
          setSendError(undefined);
        }}
      >
        {pending ? <WhatHappens pending={pending} fromFile={who === 'file'} /> : null}
      </ConfirmDialog>
    </Page>
  );
}

/** The confirmation's words: what happens to whom, and when access goes for good. */
function WhatHappens({ pending, fromFile }: { pending: Pending; fromFile: boolean }) {
  const { terms } = pending;
  const many = pending.people > 1;
  return (
    <>
      <p>
        {fromFile ? (
          <>
            <strong className="wrap-anywhere">{pending.label}</strong> names <strong>{people(pending.people)}</strong>.{' '}
          </>
        ) : null}
        Reason: <strong>{EXIT_REASON_WORDS[terms.reason]}</strong>. For {many ? 'each of them' : fromFile ? 'them' : pending.label}:
      </p>
      <ul className="exit-effects">
        <li>
          <strong>Every grant is suspended at once</strong>, critical access first{many ? ', for all of them before any email' : ''}.
        </li>
        <li>Then {many ? 'each person and their manager are' : 'they and their manager are'} told by email.</li>
        <li>
          Every grant is <strong>revoked {terms.revokeAt ? `at ${formatInstant(terms.revokeAt)}` : 'at the end of the last working day, in their time zone'}</strong>.
        </li>
        <li>{many ? 'Each gets a case of their own' : 'They get a case'}: no exit interview, no retention decision, nothing to withdraw.</li>
      </ul>
      {terms.note ? <p className="muted">The note is kept on {many ? 'each case' : 'the case'} for HR.</p> : null}
      <p>
        <strong>This cannot be undone in EMS.</strong> {many ? 'If anyone in the list cannot exit, nobody is started and you see why, by row.' : ''}
      </p>
    </>
  );
}
