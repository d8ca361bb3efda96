import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Problem } from '../api/client.ts';

/** A page: its title is the h1, which takes focus when the page opens (screen readers hear where they are). */
export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} — EMS`;
    h1.current?.focus();
  }, [title]);
  return (
    <>
      <div className="page-head">
        <h1 ref={h1} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

/** An error from the API, in words: its problem+json detail. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const text = error instanceof Problem ? error.detail : error instanceof Error ? error.message : typeof error === 'string' ? error : 'an unexpected error';
  const title = error instanceof Problem ? error.title : 'Something went wrong';
  return (
    <div className="error" role="alert">
      <strong>{title}.</strong> {text}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="muted" role="status">
      {what}…
    </p>
  );
}

/**
 * A labelled form field; `error` (from the server's problem+json, by field path) is shown next to it and
 * announced. The control is the child, rendered with the ids this gives it.
 */
export function Field({ label, hint, error, children }: { label: string; hint?: string; error?: string | undefined; children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {children({ id, describedBy, invalid: Boolean(error) })}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

const STATUS_WORDS: Record<string, string> = {
  in_progress: 'In progress',
  awaiting_decision: 'Awaiting decision',
  action_required: 'Action required',
  retained: 'Retained',
  withdrawn: 'Withdrawn',
  exit_confirmed: 'Exit confirmed',
  exited: 'Exited',
  pending: 'Pending',
  late: 'Late',
  done: 'Done',
  failed: 'Failed',
  scheduled: 'Scheduled',
  held: 'Held',
  cancelled: 'Cancelled',
  active: 'Active',
  released: 'Released',
  revoked: 'Revoked',
  settled: 'Settled',
  working: 'Working',
};

export function statusWords(status: string): string {
  return STATUS_WORDS[status] ?? status.replaceAll('_', ' ');
}

/** A status as a badge: words, never colour alone. */
export function Status({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{statusWords(status)}</span>;
}

/** 2026-12-03 → "Thu 3 Dec 2026" (a calendar day: no time zone shift). */
export function formatDay(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  if (!y || !m || !d) return isoDate;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** An instant, in a given IANA zone (the employee's) or the browser's — the zone always named, so two times on one page never read alike when they are not. */
export function formatInstant(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // dateStyle/timeStyle cannot be combined with timeZoneName (a RangeError): name each part instead.
  return d.toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', ...(timeZone ? { timeZone } : {}) });
}

export function DateTime({ iso, timeZone }: { iso: string | null | undefined; timeZone?: string }) {
  if (!iso) return <>—</>;
  return <time dateTime={iso}>{formatInstant(iso, timeZone)}</time>;
}
