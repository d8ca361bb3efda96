import { useState, type FormEvent } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { newIdempotencyKey, Problem } from '../../api/client.ts';
import { deleteWebhook, getWebhook, listDeliveries, listEventTypes, listWebhooks, registerWebhook, type DeliveryOutcome, type RegisteredWebhook, type Webhook } from '../../api/operations.ts';
import { ConfirmDialog } from '../../components/confirm.tsx';
import { DataTable } from '../../components/data-table.tsx';
import { caseChanged, type LiveUpdate } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, Field, Loading, Page } from '../../components/ui.tsx';
import { Link, navigate, useLocation } from '../../components/router.tsx';
import { PageLinks } from '../../components/page-links.tsx';

/** Deliveries follow the events: any case change (or a dead letter) may have sent one. */
const anyCase = caseChanged();
const deliveriesLive = (u: LiveUpdate) => anyCase(u) || u.kind === 'dead-letter';

/** Delete with a confirmation; `onDeleted` once the server says it is gone. */
function DeleteWebhook({ webhook, onDeleted }: { webhook: Webhook; onDeleted: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const confirm = () => {
    setBusy(true);
    setError(undefined);
    deleteWebhook(webhook.id).then(
      () => {
        setBusy(false);
        setOpen(false);
        onDeleted();
      },
      (err: unknown) => {
        setBusy(false);
        // Already gone (deleted elsewhere): what was asked is done.
        if (err instanceof Problem && err.status === 404) {
          setOpen(false);
          onDeleted();
        } else setError(err);
      },
    );
  };
  return (
    <>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setError(undefined);
          setOpen(true);
        }}
      >
        Delete<span className="visually-hidden"> the webhook to {webhook.url}</span>
      </button>
      <ConfirmDialog open={open} title="Delete this webhook?" confirmLabel="Delete" danger busy={busy} error={error} onConfirm={confirm} onCancel={() => setOpen(false)}>
        <p>
          Deliveries to <strong className="secret">{webhook.url}</strong> stop. Its signing secret is gone with it: registering the URL again gives a new one.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** Register: URL, event types (from the event catalogue), description. Field errors by the field; nothing typed is lost on failure. */
function RegisterForm({ onRegistered }: { onRegistered: (w: RegisteredWebhook) => void }) {
  const types = useResource((signal) => listEventTypes(signal), []);
  const [url, setUrl] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // One key per registration attempt, kept across retries of it (a repeat answers the same webhook).
  const [key, setKey] = useState(newIdempotencyKey);
  const problem = error instanceof Problem ? error : undefined;
  const urlError = problem?.field('body.url');
  const typesError = problem?.field('body.eventTypes') ?? (problem && /event type/i.test(problem.detail) && !urlError ? problem.detail : undefined);
  const descriptionError = problem?.field('body.description');
  const general = error && !urlError && !typesError && !descriptionError ? error : undefined;
  const toggle = (t: string, on: boolean) =>
    setChosen((prev) => {
      const next = new Set(prev);
      if (on) next.add(t);
      else next.delete(t);
      return next;
    });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    registerWebhook({ url: url.trim(), eventTypes: [...chosen], ...(description.trim() ? { description: description.trim() } : {}) }, key).then(
      (w) => {
        setBusy(false);
        setUrl('');
        setChosen(new Set());
        setDescription('');
        setKey(newIdempotencyKey());
        onRegistered(w);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err);
        // A refusal means nothing was stored: the next attempt is a new one.
        if (err instanceof Problem && err.status >= 400 && err.status < 500) setKey(newIdempotencyKey());
      },
    );
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="register-h">
      <h2 id="register-h">Register a webhook</h2>
      <ErrorMessage error={general} />
      <Field label="URL" hint="A public http:// or https:// address that receives the events (POST, signed)." error={urlError}>
        {({ id, describedBy, invalid }) => <input id={id} type="url" inputMode="url" autoComplete="url" aria-describedby={describedBy} aria-invalid={invalid} value={url} onChange={(e) => setUrl(e.target.value)} required />}
      </Field>
      <fieldset className="checks" aria-describedby={typesError ? 'event-types-error' : undefined}>
        <legend>Event types</legend>
        {typesError ? (
          <p className="field-error" id="event-types-error">
            {typesError}
          </p>
        ) : null}
        {types.error ? <ErrorMessage error={types.error} /> : null}
        {types.data === undefined ? (
          types.error ? null : <Loading what="Reading the event catalogue" />
        ) : (
          types.data.map((t) => (
            <label key={t.type}>
              <input type="checkbox" checked={chosen.has(t.type)} onChange={(e) => toggle(t.type, e.target.checked)} />
              <span>
                {t.type}
                {t.publishedBy ? <span className="muted"> — from {t.publishedBy}</span> : null}
              </span>
            </label>
          ))
        )}
      </fieldset>
      <Field label="Description (optional)" error={descriptionError}>
        {({ id, describedBy, invalid }) => <textarea id={id} aria-describedby={describedBy} aria-invalid={invalid} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />}
      </Field>
      <div>
        <button type="submit" disabled={busy}>
          {busy ? 'Registering…' : 'Register'}
        </button>
      </div>
    </form>
  );
}

/** Webhooks: the list (each with delete), and registering one (its signing secret shown once). */
export function WebhooksPage(_props: { params: Record<string, string> }) {
  const list = useResource((signal) => listWebhooks({ limit: 500 }, signal), []);
  const [registered, setRegistered] = useState<RegisteredWebhook>();
  const [done, setDone] = useState('');
  return (
    <Page title="Webhooks">
      <p>
        <Link to={AppPaths.operations}>Operations</Link>
      </p>
      <div role="status" className={done ? 'notice' : undefined}>
        {done}
      </div>
      {registered ? (
        <div className="notice" role="status">
          <p>
            <strong>Registered</strong> <Link to={AppPaths.webhook(registered.id)}>{registered.url}</Link>.
          </p>
          {registered.secret ? (
            <p>
              Its signing secret, shown this once — store it now: <code className="secret">{registered.secret}</code>
            </p>
          ) : (
            <p>It was registered before: its signing secret was shown then, and is not shown again.</p>
          )}
        </div>
      ) : null}
      <section aria-labelledby="webhooks-h">
        <h2 id="webhooks-h">Registered{list.data ? ` (${list.data.items.length})` : ''}</h2>
        <ErrorMessage error={list.error} />
        {list.data === undefined ? (
          list.error ? null : <Loading what="Reading webhooks" />
        ) : list.data.items.length === 0 ? (
          <p>No webhook is registered.</p>
        ) : (
          <DataTable label="Registered webhooks" columns={['URL', 'Event types', 'Description', 'Registered', 'Action']}>
            {list.data.items.map((w) => (
              <tr key={w.id}>
                <td className="secret">
                  <Link to={AppPaths.webhook(w.id)}>{w.url}</Link>
                </td>
                <td>
                  <ul className="plain">
                    {w.eventTypes.map((t) => (
                      <li key={t}>{t}</li>
                    ))}
                  </ul>
                </td>
                <td>{w.description ?? <span className="muted">—</span>}</td>
                <td>
                  <DateTime iso={w.createdAt} />
                </td>
                <td>
                  <DeleteWebhook
                    webhook={w}
                    onDeleted={() => {
                      setDone(`The webhook to ${w.url} is deleted.`);
                      if (registered?.id === w.id) setRegistered(undefined);
                      list.reload();
                    }}
                  />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
      <RegisterForm
        onRegistered={(w) => {
          setDone('');
          setRegistered(w);
          list.reload();
        }}
      />
    </Page>
  );
}

const OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'failed', 'dead-lettered'];
const OUTCOME_WORDS: Record<DeliveryOutcome, string> = { delivered: 'Delivered', failed: 'Failed', 'dead-lettered': 'Dead-lettered' };
const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};
const PAGE = 50;

/** One webhook: what it receives, and its deliveries (each attempt: outcome, HTTP status, error, time), live. */
export function WebhookPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const { search } = useLocation();
  const outcomeParam = search.get('outcome');
  const outcome = OUTCOMES.find((o) => o === outcomeParam);
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const webhook = useResource((signal) => getWebhook(id, signal), [id]);
  const query = `${id}|${outcome ?? ''}|${offset}`;
  const loaded = useResource(async (signal) => ({ ...(await listDeliveries(id, { limit: PAGE, offset, outcome }, signal)), query }), [id, outcome, offset], deliveriesLive);
  // Rows of another page or filter are not shown while this one loads.
  const deliveries = { ...loaded, data: loaded.data?.query === query ? loaded.data : undefined };
  const here = (o: DeliveryOutcome | undefined, off: number) => {
    const q = new URLSearchParams();
    if (o) q.set('outcome', o);
    if (off > 0) q.set('offset', String(off));
    const s = q.toString();
    return s ? `${AppPaths.webhook(id)}?${s}` : AppPaths.webhook(id);
  };
  const w = webhook.data;
  return (
    <Page title={w ? `Webhook to ${hostOf(w.url)}` : 'Webhook'}>
      <p>
        <Link to={AppPaths.webhooks}>All webhooks</Link>
      </p>
      <ErrorMessage error={webhook.error} />
      {w === undefined ? (
        webhook.error ? null : <Loading what="Reading the webhook" />
      ) : (
        <>
          <dl className="facts long">
            <dt>URL</dt>
            <dd className="secret">{w.url}</dd>
            <dt>Event types</dt>
            <dd>{w.eventTypes.join(', ')}</dd>
            <dt>Description</dt>
            <dd>{w.description ?? '—'}</dd>
            <dt>Registered</dt>
            <dd>
              <DateTime iso={w.createdAt} />
            </dd>
          </dl>
          <DeleteWebhook webhook={w} onDeleted={() => navigate(AppPaths.webhooks)} />
        </>
      )}
      <section aria-labelledby="deliveries-h">
        <h2 id="deliveries-h">Deliveries</h2>
        <form
          className="inline-form"
          role="search"
          aria-label="Filter deliveries"
          onSubmit={(e) => e.preventDefault()}
        >
          <Field label="Outcome">
            {({ id: fieldId }) => (
              <select id={fieldId} value={outcome ?? ''} onChange={(e) => navigate(here(OUTCOMES.find((o) => o === e.target.value), 0), { replace: true })}>
                <option value="">All</option>
                <option value="delivered">Delivered</option>
                <option value="failed">Failed</option>
                <option value="dead-lettered">Dead-lettered</option>
              </select>
            )}
          </Field>
        </form>
        <ErrorMessage error={deliveries.error} />
        {deliveries.data === undefined ? (
          deliveries.error ? null : <Loading what="Reading deliveries" />
        ) : deliveries.data.items.length === 0 ? (
          <p>{outcome ? `No ${outcome} deliveries.` : 'Nothing delivered yet: no matching event has been published since it was registered.'}</p>
        ) : (
          <DataTable label="Delivery attempts of this webhook" columns={['When', 'Event', 'Attempt', 'Outcome', 'Answer']}>
            {deliveries.data.items.map((d) => (
              <tr key={d.id}>
                <td>
                  <DateTime iso={d.at} />
                </td>
                <td>
                  {d.eventType}
                  <br />
                  <span className="muted secret">{d.eventId}</span>
                </td>
                <td>{d.attempt === 0 ? 'given up' : `#${d.attempt}`}</td>
                <td>
                  <span className={`badge badge-${d.outcome}`}>{OUTCOME_WORDS[d.outcome]}</span>
                </td>
                <td>
                  {d.statusCode !== null ? `HTTP ${d.statusCode}` : 'no answer'}
                  {d.durationMs !== null ? <span className="muted"> in {d.durationMs} ms</span> : null}
                  {d.error ? (
                    <>
                      <br />
                      <span className="muted">{d.error}</span>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        <PageLinks label="Delivery pages" offset={offset} pageSize={PAGE} nextOffset={deliveries.data?.nextOffset} urlFor={(o) => here(outcome, o)} />
      </section>
    </Page>
  );
}
