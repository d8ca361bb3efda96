import { useState } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { getDeadLetter, listDeadLetters, replayDeadLetter, type DeadLetter } from '../../api/operations.ts';
import { ConfirmDialog } from '../../components/confirm.tsx';
import { DataTable } from '../../components/data-table.tsx';
import type { LiveUpdate } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Loading, Page } from '../../components/ui.tsx';
import { Link, useLocation } from '../../components/router.tsx';
import { PageLinks } from '../../components/page-links.tsx';

const PAGE = 50;
const anyDeadLetter = (u: LiveUpdate) => u.kind === 'dead-letter' || u.kind === 'reconnected';

function listUrl(all: boolean, offset: number): string {
  const q = new URLSearchParams();
  if (all) q.set('all', '1');
  if (offset > 0) q.set('offset', String(offset));
  const s = q.toString();
  return s ? `${AppPaths.deadLetters}?${s}` : AppPaths.deadLetters;
}

/** The case an event is about (a CloudEvent's subject is its resignation id), when it says. */
function caseOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as { subject?: unknown; data?: { resignationId?: unknown } };
  const id = typeof e.data?.resignationId === 'string' ? e.data.resignationId : typeof e.subject === 'string' ? e.subject : undefined;
  return id && /^[0-9a-f-]{36}$/i.test(id) ? id : undefined;
}

/**
 * Replay with a confirmation: the event goes to its subscriber again, with a fresh set of attempts
 * (idempotent: a second replay is the same replay). `onReplayed` gets the dead letter as it is now.
 */
function ReplayButton({ letter, onReplayed }: { letter: DeadLetter; onReplayed: (d: DeadLetter) => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const what = letter.eventType ?? 'the message';
  const confirm = () => {
    setBusy(true);
    setError(undefined);
    replayDeadLetter(letter.id).then(
      (d) => {
        setBusy(false);
        setOpen(false);
        onReplayed(d);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
      },
    );
  };
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setError(undefined);
          setOpen(true);
        }}
      >
        Replay<span className="visually-hidden"> {what} to {letter.subscriber}</span>
      </button>
      <ConfirmDialog open={open} title={`Replay ${what}?`} confirmLabel="Replay" busy={busy} error={error} onConfirm={confirm} onCancel={() => setOpen(false)}>
        <p>
          The event goes to <strong>{letter.subscriber}</strong> again, with a fresh set of attempts. It was given up because: {letter.reason}
        </p>
        <p>Replay it once what made it fail is fixed; if it fails again, it comes back here.</p>
      </ConfirmDialog>
    </>
  );
}

/** Dead letters: what a subscriber gave up on, why and when; replay each. Follows new dead letters live. */
export function DeadLettersPage(_props: { params: Record<string, string> }) {
  const { search } = useLocation();
  const all = search.get('all') === '1';
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const query = `${all}|${offset}`;
  const loaded = useResource(async (signal) => ({ ...(await listDeadLetters({ limit: PAGE, offset, includeReplayed: all ? 'true' : undefined }, signal)), query }), [all, offset], anyDeadLetter);
  // Rows of another page or filter are not shown while this one loads.
  const list = { ...loaded, data: loaded.data?.query === query ? loaded.data : undefined };
  const [done, setDone] = useState('');
  return (
    <Page title="Dead letters">
      <p>
        <Link to={AppPaths.operations}>Operations</Link> ·{' '}
        {all ? <Link to={listUrl(false, 0)}>Show open ones only</Link> : <Link to={listUrl(true, 0)}>Show replayed ones too</Link>}
      </p>
      <div role="status" className={done ? 'notice' : undefined}>
        {done}
      </div>
      <ErrorMessage error={list.error} />
      {list.data === undefined ? (
        list.error ? null : <Loading what="Reading dead letters" />
      ) : list.data.items.length === 0 ? (
        <p>{all ? 'No dead letters.' : 'No open dead letters: every subscriber took every event.'}</p>
      ) : (
        <DataTable label={all ? 'Dead letters, open and replayed' : 'Open dead letters'} columns={['Event', 'Subscriber', 'Reason', 'Given up', 'Action']}>
          {list.data.items.map((d) => (
            <tr key={d.id}>
              <td>
                <Link to={AppPaths.deadLetter(d.id)}>{d.eventType ?? 'not a readable event'}</Link>
              </td>
              <td>{d.subscriber}</td>
              <td>{d.reason}</td>
              <td>
                <DateTime iso={d.deadAt} />
                <br />
                <span className="muted">
                  after {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                </span>
              </td>
              <td>
                {d.replayedAt ? (
                  <>
                    Replayed <DateTime iso={d.replayedAt} />
                  </>
                ) : (
                  <ReplayButton
                    letter={d}
                    onReplayed={(r) => {
                      setDone(`${r.eventType ?? 'The event'} was sent to ${r.subscriber} again.`);
                      list.reload();
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <PageLinks label="Dead letter pages" offset={offset} pageSize={PAGE} nextOffset={list.data?.nextOffset} urlFor={(o) => listUrl(all, o)} />
    </Page>
  );
}

/** One dead letter: its facts, the event as the API gives it, and replay. */
export function DeadLetterPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const letter = useResource((signal) => getDeadLetter(id, signal), [id], anyDeadLetter);
  const [done, setDone] = useState('');
  const d = letter.data;
  const caseId = d ? caseOf(d.event) : undefined;
  return (
    <Page title={d ? `Dead letter: ${d.eventType ?? 'unreadable message'}` : 'Dead letter'}>
      <p>
        <Link to={AppPaths.deadLetters}>All dead letters</Link>
      </p>
      <div role="status" className={done ? 'notice' : undefined}>
        {done}
      </div>
      <ErrorMessage error={letter.error} />
      {d === undefined ? (
        letter.error ? null : <Loading what="Reading the dead letter" />
      ) : (
        <>
          <dl className="facts long">
            <dt>Subscriber</dt>
            <dd>{d.subscriber}</dd>
            <dt>Event type</dt>
            <dd>{d.eventType ?? 'none (not a readable CloudEvent)'}</dd>
            <dt>Event id</dt>
            <dd>{d.eventId ?? '—'}</dd>
            <dt>Reason</dt>
            <dd>{d.reason}</dd>
            <dt>Given up</dt>
            <dd>
              <DateTime iso={d.deadAt} />, after {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
            </dd>
            <dt>Replayed</dt>
            <dd>{d.replayedAt ? <DateTime iso={d.replayedAt} /> : 'Not yet'}</dd>
            {caseId ? (
              <>
                <dt>Case</dt>
                <dd>
                  <Link to={AppPaths.case(caseId)}>Open the case</Link>
                </dd>
              </>
            ) : null}
          </dl>
          {d.replayedAt ? null : (
            <ReplayButton
              letter={d}
              onReplayed={(r) => {
                setDone(`Sent to ${r.subscriber} again. If it fails again, it comes back to the list.`);
                letter.reload();
              }}
            />
          )}
          <h2>The event, as received</h2>
          <pre className="event" tabIndex={0} role="region" aria-label="The event as received, JSON">
            {JSON.stringify(d.event, null, 2)}
          </pre>
        </>
      )}
    </Page>
  );
}
