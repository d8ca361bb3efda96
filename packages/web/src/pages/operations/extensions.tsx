import { AppPaths } from '@ems/contracts/app-paths';
import { listExtensions } from '../../api/operations.ts';
import { DataTable } from '../../components/data-table.tsx';
import { useResource } from '../../components/resource.ts';
import { ErrorMessage, Loading, Page } from '../../components/ui.tsx';
import { Link } from '../../components/router.tsx';
import { roleWords } from '../../components/roles.ts';

/** Extensions: the optional services this EMS loaded (EMS_EXTENSIONS) — what each subscribes to, publishes and adds to the API. */
export function ExtensionsPage(_props: { params: Record<string, string> }) {
  const list = useResource((signal) => listExtensions(signal), []);
  return (
    <Page title="Extensions">
      <p>
        <Link to={AppPaths.operations}>Operations</Link>
      </p>
      <p className="muted">An extension is a service that joins the flow by subscribing to its events (named in EMS_EXTENSIONS); it may publish events of its own and add API operations.</p>
      <ErrorMessage error={list.error} />
      {list.data === undefined ? (
        list.error ? null : <Loading what="Reading the extensions" />
      ) : list.data.items.length === 0 ? (
        <p>This EMS runs no extension.</p>
      ) : (
        list.data.items.map((x) => (
          <section key={x.module} className="card extension" aria-labelledby={`ext-${x.name}`}>
            <h2 id={`ext-${x.name}`}>
              {x.name}
              {x.version ? <span className="muted"> {x.version}</span> : null}
            </h2>
            <p>
              {x.description ?? 'No description.'} <span className="muted">Module {x.module}.</span>
            </p>
            <h3>Subscribes to</h3>
            {x.subscribes.length === 0 ? (
              <p>Nothing.</p>
            ) : (
              <ul>
                {x.subscribes.map((s) => (
                  <li key={s.subscriber}>
                    {s.eventTypes.join(', ')} <span className="muted">— as {s.subscriber}</span>
                  </li>
                ))}
              </ul>
            )}
            <h3>Publishes</h3>
            {x.publishes.length === 0 ? (
              <p>Nothing.</p>
            ) : (
              <ul>
                {x.publishes.map((t) => (
                  <li key={t}>{t}</li>
                ))}
              </ul>
            )}
            <h3>Adds to the API</h3>
            {x.operations.length === 0 ? (
              <p>No operations.</p>
            ) : (
              <DataTable label={`Operations ${x.name} adds`} caption={`Operations ${x.name} adds, and who may call them`} columns={['Operation', 'Request', 'Who may call it']}>
                {x.operations.map((o) => (
                  <tr key={o.operationId}>
                    <td>
                      {o.what}
                      <br />
                      <span className="muted">{o.operationId}</span>
                    </td>
                    <td>{o.method && o.path ? <code>{`${o.method} ${o.path}`}</code> : '—'}</td>
                    <td>{o.roles.length === 0 ? 'services only' : o.roles.map((r) => `${roleWords(r.role)} (${r.rows})`).join(', ')}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </section>
        ))
      )}
    </Page>
  );
}
