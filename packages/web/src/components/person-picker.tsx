import { useEffect, useState } from 'react';
import { Problem } from '../api/client.ts';
import { describeWorkingDays, getEmployee, searchEmployees, type Employee } from '../api/directory.ts';
import { ErrorMessage, Field } from './ui.tsx';

/**
 * Picking a person of the directory, as HR does for someone else (Resign for an employee, End employment): the
 * id typed, or found by name or email; the entry looked up as the id is typed, for the page's own checks (zone,
 * working days) and for the sentence that says whom the form is about.
 *
 *   "Employee id" ──typed──┐
 *                          ├─► onChange(id) ─► the page's state ─► usePersonLookup(id) ─► <PersonSummary>
 *   "Find an employee" ────┘ (picked)
 */

const EMPLOYEE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Whom the form is for: the directory entry of the id typed, once looked up. */
export type PersonLookup = { state: 'idle' } | { state: 'loading'; id: string } | { state: 'found'; employee: Employee } | { state: 'missing'; id: string; message: string };

/**
 * The directory entry of `employeeId`, looked up 300 ms after the last keystroke (an id that cannot be one is not
 * asked for); `immediateFor` — one's own id, set when the page opens — is looked up at once.
 */
export function usePersonLookup(employeeId: string, immediateFor?: string): PersonLookup {
  const [lookup, setLookup] = useState<PersonLookup>({ state: 'idle' });
  useEffect(() => {
    const id = employeeId.trim();
    if (!EMPLOYEE_ID.test(id)) {
      setLookup({ state: 'idle' });
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(
      () => {
        setLookup({ state: 'loading', id });
        getEmployee(id, ctl.signal).then(
          (employee) => setLookup({ state: 'found', employee }),
          (err: unknown) => {
            if (ctl.signal.aborted) return;
            setLookup({ state: 'missing', id, message: err instanceof Problem && err.status === 404 ? `No one in the directory has the id ${id}.` : err instanceof Error ? err.message : String(err) });
          },
        );
      },
      id === immediateFor ? 0 : 300,
    );
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [employeeId, immediateFor]);
  return lookup;
}

/**
 * The "Employee id" field and, below it, the search by name or email. `onChange` hears each keystroke in the
 * field (`typed`) and each person picked in the search (`picked`); the page keeps the id.
 */
export function PersonPicker({
  employeeId,
  onChange,
  hint,
  error,
  required,
  focusKey,
}: {
  employeeId: string;
  onChange: (id: string, how: 'typed' | 'picked') => void;
  hint: string;
  error: string | undefined;
  required?: boolean;
  /** The field's data-focus key: the page focuses it when the id is what is wrong. */
  focusKey?: string;
}) {
  return (
    <>
      <Field label="Employee id" hint={hint} error={error}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            data-focus={focusKey}
            name="employeeId"
            value={employeeId}
            onChange={(e) => onChange(e.target.value, 'typed')}
            aria-describedby={describedBy}
            aria-invalid={invalid}
            autoComplete="off"
            spellCheck={false}
            required={required}
          />
        )}
      </Field>
      <EmployeeSearch onPick={(id) => onChange(id, 'picked')} />
    </>
  );
}

/** Whom the form is about, once found (their role, department, working days and zone), or that they are being looked up. */
export function PersonSummary({ lookup, self = false }: { lookup: PersonLookup; /** The person is the one signed in: "You work …". */ self?: boolean }) {
  if (lookup.state === 'found') {
    const employee = lookup.employee;
    return (
      <p className="muted" aria-live="polite">
        {self ? 'You' : employee.name} ({employee.title}, {employee.department.name}) {self ? 'work' : 'works'} {describeWorkingDays(employee.workingHours.days)}, {employee.workingHours.start}–{employee.workingHours.end} ({employee.timezone}).
      </p>
    );
  }
  if (lookup.state === 'loading') {
    return (
      <p className="muted" role="status">
        Looking up {lookup.id}…
      </p>
    );
  }
  return null;
}

/** Find an employee by name or email (at least two letters); picking one gives their id. */
export function EmployeeSearch({ onPick }: { onPick: (id: string) => void }) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Employee[] | undefined>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setResults(undefined);
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      searchEmployees(text, ctl.signal).then(
        (page) => {
          setResults(page.items);
          setError(undefined);
        },
        (err: unknown) => {
          if (!ctl.signal.aborted) setError(err);
        },
      );
    }, 250);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [q]);
  return (
    <fieldset>
      <legend>Find an employee</legend>
      <Field label="Name or email" hint="At least two letters.">
        {({ id, describedBy }) => <input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} aria-describedby={describedBy} autoComplete="off" />}
      </Field>
      <ErrorMessage error={error} />
      {results === undefined ? null : results.length === 0 ? (
        <p role="status">No one matches.</p>
      ) : (
        <ul className="picks" aria-label="Matching people">
          {results.map((e) => (
            <li key={e.id}>
              <button type="button" className="secondary" onClick={() => onPick(e.id)}>
                {e.name} <span className="muted">({e.id}, {e.department.name})</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
