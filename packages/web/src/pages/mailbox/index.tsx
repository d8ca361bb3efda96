import { Fragment, useCallback, type ReactNode } from 'react';
import { AppPaths } from '@ems/contracts/app-paths';
import { Problem } from '../../api/client.ts';
import { attachmentHref, getMail, listMail, NO_MAILBOX, type MailAttachment, type MailMessage } from '../../api/mailbox.ts';
import { caseChanged } from '../../components/live.ts';
import { useResource } from '../../components/resource.ts';
import { DateTime, ErrorMessage, formatInstant, Loading, Page } from '../../components/ui.tsx';
import { Link, navigate, useLocation } from '../../components/router.tsx';
import { useSession } from '../../components/session.tsx';
import { readInvite } from './ics.ts';

const PAGE_SIZE = 50;
// Mail is sent as cases move: a change of any case the person may see can bring a message.
const live = caseChanged();

/** The mailbox does not exist with a real relay: the API says so with its own problem type. */
function NoMailbox({ error }: { error: unknown }) {
  if (error instanceof Problem && error.type === NO_MAILBOX) {
    return (
      <div className="notice" role="status">
        <p>
          <strong>No mailbox here.</strong> EMS sends its mail through the configured relay (<code>EMS_SMTP_URL</code>), so it arrives in your usual mail client, not in EMS. {error.detail}
        </p>
      </div>
    );
  }
  return <ErrorMessage error={error} />;
}

/** "Dana Boss <dana@acme.example>" → "Dana Boss"; a bare address stays as it is. */
function displayName(address: string): string {
  const m = /^\s*"?([^"<]*?)"?\s*<[^>]+>\s*$/.exec(address);
  return m?.[1] ? m[1] : address;
}

/** The embedded default's captured mail, as a mail client lists it: from, subject, date; newest first. */
export function MailboxPage(_props: { params: Record<string, string> }) {
  const session = useSession();
  const { search } = useLocation();
  const offset = Math.max(0, Number.parseInt(search.get('offset') ?? '0', 10) || 0);
  const mail = useResource((signal) => listMail({ limit: PAGE_SIZE, offset }, signal), [offset], live);
  const everyone = session.has('operator');
  const items = [...(mail.data?.items ?? [])].sort((a, b) => b.date.localeCompare(a.date) || b.id.localeCompare(a.id));
  const go = (o: number) => navigate(o ? `${AppPaths.mailbox}?offset=${o}` : AppPaths.mailbox);
  return (
    <Page title="Mailbox" actions={<button type="button" className="secondary" onClick={mail.reload}>Check for new mail</button>}>
      <p>
        {everyone
          ? 'Every message the built-in mail server captured (you are the operator), newest first.'
          : 'The messages EMS sent to your address, captured by the built-in mail server, newest first.'}
      </p>
      {mail.error ? <NoMailbox error={mail.error} /> : null}
      {mail.data === undefined ? (
        mail.error ? null : <Loading what="Loading your mail" />
      ) : items.length === 0 ? (
        <p role="status">{offset ? 'No more messages.' : 'No messages yet.'}</p>
      ) : (
        <div className="table-wrap">
          <table className="mail-list">
            <caption className="visually-hidden">Messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                {everyone ? <th scope="col">To</th> : null}
                <th scope="col">Subject</th>
                <th scope="col">Date</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id}>
                  <td>{displayName(m.from)}</td>
                  {everyone ? <td>{(m.deliveredTo.length ? m.deliveredTo : m.to).join(', ')}</td> : null}
                  <td>
                    <Link to={AppPaths.mail(m.id)}>{m.subject || '(no subject)'}</Link>
                    {m.attachmentCount > 0 ? <span className="muted"> · {m.attachmentCount === 1 ? '1 attachment' : `${m.attachmentCount} attachments`}</span> : null}
                  </td>
                  <td>
                    <DateTime iso={m.date} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {offset > 0 || mail.data?.nextOffset != null ? (
        <nav className="pager" aria-label="Pages of messages">
          <button type="button" className="secondary" disabled={offset === 0} onClick={() => go(Math.max(0, offset - PAGE_SIZE))}>
            Newer
          </button>
          <button type="button" className="secondary" disabled={mail.data?.nextOffset == null} onClick={() => go(mail.data?.nextOffset ?? offset)}>
            Older
          </button>
        </nav>
      ) : null}
    </Page>
  );
}

/**
 * The HTML part as received, in a sandboxed frame: no scripts, an opaque origin (no cookies, no access to this
 * page), links open in a new tab outside the sandbox. The frame inherits this page's Content-Security-Policy,
 * so remote images and styles do not load either.
 */
function HtmlBody({ html, title }: { html: string; title: string }) {
  const doc = `<!doctype html><html><head><meta charset="utf-8"><base target="_blank"><style>body{font:15px/1.5 system-ui,sans-serif;color:#1b1f24;margin:.75rem;overflow-wrap:anywhere}img{max-width:100%}</style></head><body>${html}</body></html>`;
  return <iframe className="mail-html" title={`The message: ${title}`} sandbox="allow-popups allow-popups-to-escape-sandbox" srcDoc={doc} referrerPolicy="no-referrer" />;
}

/** Text with its web addresses as links: a link to one of the app's own pages opens in the app. */
function LinkedText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  const re = /https?:\/\/[^\s<>"')\]]+/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index;
    parts.push(text.slice(last, at));
    const url = m[0].replace(/[.,;:]+$/, '');
    let own: string | null = null;
    try {
      const u = new URL(url);
      if (u.origin === location.origin) own = u.pathname + u.search;
    } catch {
      own = null;
    }
    parts.push(
      own ? (
        <Link key={at} to={own}>
          {url}
        </Link>
      ) : (
        <a key={at} href={url} target="_blank" rel="noreferrer noopener">
          {url}
        </a>
      ),
    );
    last = at + url.length;
  }
  parts.push(text.slice(last));
  return <>{parts.map((p, i) => (typeof p === 'string' ? <Fragment key={`t${i}`}>{p}</Fragment> : p))}</>;
}

/** An invite often travels twice (as the calendar part of the body and as an .ics file): shown once. */
function distinct(attachments: readonly MailAttachment[]): MailAttachment[] {
  const seen = new Set<string>();
  return attachments.filter((a) => {
    const key = `${a.contentType.split(';')[0]!.toLowerCase()}\u0000${a.encoding}\u0000${a.content}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const isCalendar = (a: MailAttachment) => a.contentType.toLowerCase().startsWith('text/calendar') || (a.filename ?? '').toLowerCase().endsWith('.ics');

function Attachment({ a, index }: { a: MailAttachment; index: number }) {
  const name = a.filename ?? (isCalendar(a) ? 'invite.ics' : `attachment-${index + 1}`);
  const download = (
    <a className="button secondary" href={attachmentHref(a)} download={name}>
      Download {name}
    </a>
  );
  if (isCalendar(a) && a.encoding === 'utf8') {
    const inv = readInvite(a.content);
    const method = (a.params.method ?? inv.method ?? '').toUpperCase();
    return (
      <li className="card invite">
        <h3>{method === 'CANCEL' ? 'Cancelled event' : 'Calendar invite'}: {inv.summary ?? name}</h3>
        <dl className="facts">
          <dt>When</dt>
          <dd>
            {inv.start ? formatInstant(inv.start) : '—'}
            {inv.end ? ` to ${new Date(inv.end).toLocaleTimeString(undefined, { timeStyle: 'short' })}` : ''}
            <span className="muted"> (your browser's time)</span>
          </dd>
          {inv.organizer ? (
            <>
              <dt>Organiser</dt>
              <dd>{inv.organizer}</dd>
            </>
          ) : null}
          {inv.attendees.length ? (
            <>
              <dt>Attendees</dt>
              <dd>{inv.attendees.join(', ')}</dd>
            </>
          ) : null}
          <dt>Status</dt>
          <dd>
            {method === 'CANCEL' || inv.status === 'CANCELLED' ? 'Cancelled' : method === 'REQUEST' ? 'Invitation (reply requested)' : (inv.status ?? method ?? '—')}
            {inv.sequence !== null ? <span className="muted"> · version {inv.sequence}</span> : null}
          </dd>
          {inv.description ? (
            <>
              <dt>Details</dt>
              <dd className="prewrap">
                <LinkedText text={inv.description} />
              </dd>
            </>
          ) : null}
        </dl>
        <p className="actions-row">
          {download}
          <span className="muted">
            {a.contentType.split(';')[0]} · {size(a.size)}
          </span>
        </p>
        <details>
          <summary>The invite as sent (iCalendar text)</summary>
          <pre className="mail-text">{a.content}</pre>
        </details>
      </li>
    );
  }
  return (
    <li className="card">
      <p className="actions-row">
        {download}
        <span className="muted">
          {a.contentType.split(';')[0]} · {size(a.size)}
        </span>
      </p>
    </li>
  );
}

/** One message as a mail client shows it: headers, the HTML (sandboxed), the text part, attachments. */
export function MailPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const mail = useResource((signal) => getMail(id, signal), [id]);
  const back = useCallback(() => navigate(AppPaths.mailbox), []);
  const m: MailMessage | undefined = mail.data;
  if (!m) {
    return (
      <Page title="Message">
        {mail.error ? (
          mail.error instanceof Problem && mail.error.status === 404 && mail.error.type !== NO_MAILBOX ? (
            <p>
              There is no message <code>{id}</code> in your mailbox. <Link to={AppPaths.mailbox}>Back to the mailbox</Link>.
            </p>
          ) : (
            <NoMailbox error={mail.error} />
          )
        ) : (
          <Loading what="Loading the message" />
        )}
      </Page>
    );
  }
  return (
    <Page
      title={m.subject || '(no subject)'}
      actions={
        <button type="button" className="secondary" onClick={back}>
          Back to the mailbox
        </button>
      }
    >
      <section aria-labelledby="mail-headers">
        <h2 id="mail-headers" className="visually-hidden">
          Headers
        </h2>
        <dl className="facts mail-headers">
          <dt>From</dt>
          <dd>{m.from}</dd>
          <dt>To</dt>
          <dd>{m.to.join(', ') || '—'}</dd>
          {m.deliveredTo.length && m.deliveredTo.join() !== m.to.join() ? (
            <>
              <dt>Delivered to</dt>
              <dd>{m.deliveredTo.join(', ')}</dd>
            </>
          ) : null}
          <dt>Date</dt>
          <dd>
            <DateTime iso={m.date} />
          </dd>
          {m.messageId ? (
            <>
              <dt>Message-ID</dt>
              <dd>
                <code className="wrap">{m.messageId}</code>
              </dd>
            </>
          ) : null}
        </dl>
      </section>
      {m.html ? (
        <section aria-labelledby="mail-html">
          <h2 id="mail-html">Message</h2>
          <HtmlBody html={m.html} title={m.subject} />
        </section>
      ) : null}
      <section aria-labelledby="mail-text">
        {m.html ? (
          <details>
            <summary>
              <h2 id="mail-text" className="inline">
                Plain text
              </h2>
            </summary>
            <pre className="mail-text">
              <LinkedText text={m.text} />
            </pre>
          </details>
        ) : (
          <>
            <h2 id="mail-text">Message</h2>
            <pre className="mail-text">
              <LinkedText text={m.text} />
            </pre>
          </>
        )}
      </section>
      {m.attachments.length ? (
        <section aria-labelledby="mail-attachments">
          <h2 id="mail-attachments">Attachments</h2>
          <ul className="attachments">
            {distinct(m.attachments).map((a, i) => (
              <Attachment key={i} a={a} index={i} />
            ))}
          </ul>
        </section>
      ) : null}
    </Page>
  );
}
