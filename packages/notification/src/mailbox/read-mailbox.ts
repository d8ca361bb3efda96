import { refuse } from '@ems/platform';
import { mailbox as api } from '@ems/contracts';
import type { Maildir } from './maildir.ts';

export interface MailboxDeps {
  /** The capture server's Maildir; undefined when mail goes to a real relay (there is no mailbox). */
  maildir: Maildir | undefined;
  /** A directory person's address (the one EMS mails them at). */
  emailOf(personId: string): Promise<string | undefined>;
}

/** Whose messages the caller may read: the people's ids (their directory addresses), or undefined for every message. */
export interface MailboxScope {
  personIds: readonly string[] | undefined;
}

const noMailbox = () =>
  refuse.notFound('No mailbox: EMS sends mail through the configured relay (EMS_SMTP_URL); read it there.', { type: api.MailboxProblemTypes.noMailbox, title: 'Not Found' });

/** The messages delivered to the caller's own address (or every message, for the operator), newest first. */
export async function listMailbox(deps: MailboxDeps, scope: MailboxScope, page: api.MailboxListQuery): Promise<api.MailboxList> {
  if (!deps.maildir) throw noMailbox();
  const recipients = await addressesOf(deps, scope);
  if (recipients && recipients.length === 0) return { items: [], nextOffset: null };
  return deps.maildir.list({ recipients }, page);
}

/** One message, if it was delivered to the caller's address; another's answers exactly like an unknown one. */
export async function getMailboxMessage(deps: MailboxDeps, scope: MailboxScope, id: string): Promise<api.MailboxMessage> {
  if (!deps.maildir) throw noMailbox();
  const message = await deps.maildir.get(id);
  const recipients = await addressesOf(deps, scope);
  const visible = message && (!recipients || message.deliveredTo.some((r) => recipients.some((mine) => mine.toLowerCase() === r.toLowerCase())));
  if (!visible) throw refuse.notFound(`No message ${id} in your mailbox`);
  return message;
}

async function addressesOf(deps: MailboxDeps, scope: MailboxScope): Promise<string[] | undefined> {
  if (!scope.personIds) return undefined;
  const found = await Promise.all(scope.personIds.map((id) => deps.emailOf(id)));
  return found.filter((e): e is string => e !== undefined);
}
