import { AppPaths } from '@ems/contracts/app-paths';
import { Problem } from '../../api/client.ts';
import { listEventTypes, listExtensions, listOperations, type EventTypeInfo, type Extension, type OperationInfo } from '../../api/operations.ts';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, Loading, Page } from '../../components/ui.tsx';
import { Link } from '../../router.tsx';

/** Tags and publishers of EMS's own services: anything else in the documents was added by an extension. */
const CORE_TAGS = new Set(['access', 'hr', 'resignations', 'sign-in', 'identity', 'webhooks', 'notification', 'events', 'health', 'mailbox', 'updates', 'ems', 'follow-ups', 'reports', 'resignations', 'interviews', 'directory']);
const CORE_PUBLISHERS = new Set(['ems', 'notification', 'hr', 'access', 'webhooks', 'identity']);

interface ExtensionsView {
  /** GET /api/extensions, or null when this EMS does not answer it. */
  listed: Extension[] | null;
  listError: unknown;
  operations: OperationInfo[];
  events: EventTypeInfo[];
}

async function loadExtensions(signal: AbortSignal): Promise<ExtensionsView> {
  const [listed, operations, events] = await Promise.all([
    listExtensions(signal).then(
      (r) => ({ items: Array.isArray(r) ? r : r.items, error: undefined as unknown }),
      (err: unknown) => ({ items: null, error: err }),
    ),
    listOperations(signal),
    listEventTypes(signal),
  ]);
  return {
    listed: listed.items,
    listError: listed.error instanceof Problem && listed.error.status === 404 ? undefined : listed.error,
    operations: operations.filter((o) => o.tags.length > 0 && o.tags.every((t) => !CORE_TAGS.has(t))),
    events: events.filter((e) => e.publishedBy !== null && !CORE_PUBLISHERS.has(e.publishedBy)),
  };
}

/** One line for an item of an extension's list, whatever its shape (a name, or an object naming itself). */
function itemWords(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item !== 'object' || item === null) return String(item);
  const o = item as Record<string, unknown>;
  const pick = (...keys: string[]) => keys.map((k) => o[k]).find((v): v is string => typeof v === 'string');
  const head = [pick('method')?.toUpperCase(), pick('path')].filter(Boolean).join(' ');
  const name = pick('operationId', 'eventType', 'type', 'name', 'subscriber');
  const summary = pick('summary', 'description');
  return [name, head ? `(${head})` : '', summary ? `— ${summary}` : ''].filter(Boolean).join(' ') || JSON.stringify(item);
}

/** Extensions: the optional services EMS runs (EMS_EXTENSIONS), what each subscribes to and what it adds. */
export function ExtensionsPage(_props: { params: Record<string, string> }) {
  const data = useResource(loadExtensions, []);
  const v = data.data;
  return (
    <Page title="Extensions">
      <p>
        <Link to={AppPaths.operations}>Operations</Link>
      </p>
      <p className="muted">An extension is a service that joins the flow by subscribing to its events (set with EMS_EXTENSIONS); it may publish events of its own and add API operations.</p>
      <ErrorMessage error={data.error} />
      {v === undefined ? (
        data.error ? null : <Loading what="Reading the extensions" />
      ) : (
        <>
          <ErrorMessage error={v.listError} />
          {v.listed === null ? null : v.listed.length === 0 ? (
            <p>This EMS runs no extension.</p>
          ) : (
            <ul className="cards">
              {v.listed.map((x) => (
                <li key={x.name} className="card">
                  <h2>
                    {x.name}
                    {x.version ? <span className="muted"> {x.version}</span> : null}
                  </h2>
                  <h3>Subscribes to</h3>
                  {x.subscriptions && x.subscriptions.length > 0 ? (
                    <ul>
                      {x.subscriptions.map((s, i) => (
                        <li key={i}>{itemWords(s)}</li>
                      ))}
                    </ul>
                  ) : (
                    <p>Nothing.</p>
                  )}
                  <h3>Adds to the API</h3>
                  {x.operations && x.operations.length > 0 ? (
                    <ul>
                      {x.operations.map((o, i) => (
                        <li key={i}>{itemWords(o)}</li>
                      ))}
                    </ul>
                  ) : (
                    <p>No operations.</p>
                  )}
                </li>
              ))}
            </ul>
          )}
          {v.listed === null ? (
            <>
              <p className="notice">This EMS does not list its extensions itself (it has no GET /api/extensions yet): below is what its API and event documents say extensions added.</p>
              <section aria-labelledby="ext-ops-h">
                <h2 id="ext-ops-h">Operations added by extensions</h2>
                {v.operations.length === 0 ? (
                  <p>
                    None: the <a href="/openapi.json">API document</a> names only EMS's own operations.
                  </p>
                ) : (
                  <div className="table-wrap" tabIndex={0} role="region" aria-label="API operations outside EMS's own services, from /openapi.json">
                    <table>
                      <caption className="visually-hidden">API operations outside EMS's own services, from /openapi.json</caption>
                      <thead>
                        <tr>
                          <th scope="col">Extension (tag)</th>
                          <th scope="col">Operation</th>
                          <th scope="col">Request</th>
                          <th scope="col">What it does</th>
                        </tr>
                      </thead>
                      <tbody>
                        {v.operations.map((o) => (
                          <tr key={o.operationId}>
                            <td>{o.tags.join(', ')}</td>
                            <td>{o.operationId}</td>
                            <td>
                              <code>
                                {o.method} {o.path}
                              </code>
                            </td>
                            <td>{o.summary}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </section>
              <section aria-labelledby="ext-events-h">
                <h2 id="ext-events-h">Events published by extensions</h2>
                {v.events.length === 0 ? (
                  <p>
                    None: the <a href="/asyncapi.json">event document</a> names only EMS's own services as publishers.
                  </p>
                ) : (
                  <ul>
                    {v.events.map((e) => (
                      <li key={e.type}>
                        {e.type} <span className="muted">— from {e.publishedBy}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </>
          ) : null}
        </>
      )}
    </Page>
  );
}
