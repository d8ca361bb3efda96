import { useState } from 'react';
import { newIdempotencyKey } from '../../api/client.ts';
import { getEmployeeAccess, revokeAccess, type Actor, type Employee, type Revocation } from '../../api/access.ts';
import { ConfirmDialog } from '../../components/confirm.tsx';
import { formatInstant } from '../../components/ui.tsx';
import { roleWords } from '../../components/roles.ts';

/** The viewer's own zone (the browser's). */
export const viewerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * An instant in the employee's zone, named, and — when it differs — in the viewer's: "19 Dec 2026, 00:00 GMT
 * (Europe/London) · your time 19 Dec 2026, 01:00 CET".
 */
export function Zoned({ iso, timeZone }: { iso: string; timeZone: string | undefined }) {
  const mine = viewerZone();
  const theirs = timeZone ?? mine;
  const there = formatInstant(iso, theirs);
  const here = formatInstant(iso, mine);
  const endOf = endOfDay(iso, theirs);
  return (
    <>
      <time dateTime={iso}>{there}</time>
      {endOf ? <span> (the end of {endOf})</span> : null}
      {timeZone ? <span className="muted"> ({timeZone})</span> : null}
      {here !== there ? (
        <>
          <br />
          <span className="muted">your time: {here}</span>
        </>
      ) : null}
    </>
  );
}

/** Midnight in the zone is the end of the day before: "Fri 18 Dec" for 19 Dec 00:00 (else null). */
function endOfDay(iso: string, timeZone: string): string | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const at = (t: string) => parts.find((p) => p.type === t)?.value;
  if (at('hour') !== '00' || at('minute') !== '00' || at('second') !== '00') return null;
  return new Date(d.getTime() - 1).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone });
}

/** "Barbara Hopper (E1004), access administrator, via ems-web" · "the ems service, via ems-service-ems". */
export function actorWords(a: Actor): string {
  if (a.kind === 'service') return `the ${a.id} service, via ${a.client}`;
  return `${a.name ? `${a.name} (${a.id})` : a.id}, ${roleWords(a.role)}, via ${a.client}`;
}

export function ActorCell({ actor, onBehalfOf }: { actor: Actor; onBehalfOf: Actor | null }) {
  return (
    <>
      <span>{actor.kind === 'service' ? `Service: ${actor.id}` : (actor.name ?? actor.id)}</span>
      <br />
      <span className="muted">
        {actor.kind === 'person' ? `${actor.id} · ${roleWords(actor.role)} · ` : ''}client {actor.client}
      </span>
      {onBehalfOf ? (
        <>
          <br />
          <span>for {actorWords(onBehalfOf)}</span>
        </>
      ) : null}
    </>
  );
}

export const personName = (employees: ReadonlyMap<string, Employee>, id: string) => employees.get(id)?.name ?? id;

/**
 * "Revoke now" for a scheduled revocation: a confirmation naming every grant that goes (the employee's
 * grants not yet revoked, read when it opens), then the revocation moved to now (its next revision), which
 * Access carries out at once. One idempotency key per confirmation, kept across retries.
 */
export function RevokeNow({ revocation, employee, onDone }: { revocation: Revocation; employee: Employee | undefined; onDone: (message: string) => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [key, setKey] = useState('');
  const [grants, setGrants] = useState<string[] | undefined>();
  const name = employee?.name ?? revocation.employeeId;
  const start = () => {
    setError(undefined);
    setGrants(undefined);
    setKey(newIdempotencyKey());
    setOpen(true);
    getEmployeeAccess(revocation.employeeId).then(
      (a) => setGrants(a.items.filter((g) => g.status !== 'revoked').map((g) => `${g.systemName} (${g.status})`)),
      () => setGrants([]),
    );
  };
  const confirm = () => {
    setBusy(true);
    setError(undefined);
    revokeAccess({ resignationId: revocation.resignationId, employeeId: revocation.employeeId, revision: revocation.revision + 1, reason: 'Revoked now by the access administrator' }, key).then(
      (r) => {
        setBusy(false);
        setOpen(false);
        onDone(r.status === 'done' ? `${name}'s access is revoked: ${r.revoked.length} grant${r.revoked.length === 1 ? '' : 's'} (${r.revoked.map((g) => g.system).join(', ') || 'none left'}).` : `${name}'s revocation is ${r.status}.`);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return (
    <>
      <button type="button" className="danger" onClick={start}>
        Revoke now<span className="visually-hidden"> — {name}</span>
      </button>
      <ConfirmDialog
        open={open}
        title={`Revoke all of ${name}'s access now?`}
        confirmLabel="Revoke now"
        danger
        busy={busy}
        error={error}
        onConfirm={confirm}
        onCancel={() => setOpen(false)}
      >
        <p>
          It is scheduled for {formatInstant(revocation.revokeAt, employee?.timezone)}
          {employee ? ` (${employee.timezone})` : ''}. Revoking now takes every grant {name} still holds, at once. This cannot be undone.
        </p>
        {grants === undefined ? (
          <p className="muted">Reading {name}'s grants…</p>
        ) : grants.length === 0 ? (
          <p>No grant is left to revoke.</p>
        ) : (
          <>
            <p>These go:</p>
            <ul>
              {grants.map((g) => (
                <li key={g}>{g}</li>
              ))}
            </ul>
          </>
        )}
      </ConfirmDialog>
    </>
  );
}
