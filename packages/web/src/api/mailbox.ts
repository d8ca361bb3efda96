import type { mailbox } from '@ems/contracts';
import { get, type Query } from './client.ts';

/**
 * The embedded default's mailbox (packages/contracts/src/mailbox.ts): what the capture SMTP server received.
 * Each person reads the messages delivered to their own address; the operator every message. With a real relay
 * both answer 404 of type `NO_MAILBOX`.
 */
export type MailSummary = mailbox.MailboxMessageSummary;
export type MailMessage = mailbox.MailboxMessage;
export type MailAttachment = mailbox.MailboxAttachment;
export type MailList = { items: MailSummary[]; nextOffset: number | null };

// The contract keeps these beside its zod schemas; spelt here so the bundle does not import zod.
const MailboxPaths = {
  messages: '/api/mailbox',
  message: (id: string) => `/api/mailbox/${encodeURIComponent(id)}`,
} as const;
export const NO_MAILBOX = 'https://ems.dev/problems/no-mailbox';

export const listMail = (query: Query, signal?: AbortSignal) => get<MailList>(MailboxPaths.messages, query, signal);
export const getMail = (id: string, signal?: AbortSignal) => get<MailMessage>(MailboxPaths.message(id), undefined, signal);

/** An attachment as a `data:` URL the browser can download (text as UTF-8, anything else from base64). */
export function attachmentHref(a: MailAttachment): string {
  const type = a.contentType.split(';')[0]!.trim() || 'application/octet-stream';
  if (a.encoding === 'base64') return `data:${type};base64,${a.content}`;
  return `data:${type};charset=utf-8,${encodeURIComponent(a.content)}`;
}
