import { z } from 'zod';
import { ListOf, PageQuery } from './common.ts';

/**
 * The mailbox of the embedded default: what the built-in capture SMTP server received, kept as a Maildir
 * under the data directory (across restarts, the newest N). It exists only where EMS captures mail itself;
 * with a real relay (EMS_SMTP_URL) both operations answer 404 (problem type MailboxProblemTypes.noMailbox).
 * A person sees the messages delivered to their own directory address (the SMTP envelope's recipient); the
 * operator sees every message.
 */
export { MailboxPaths } from './paths.ts';

export const MailboxProblemTypes = {
  noMailbox: 'https://ems.dev/problems/no-mailbox',
} as const;

/** A message's id: its Maildir file name (the instant it arrived, in ms, then a unique part). */
export const MailboxMessageId = z.string().regex(/^\d{13}\.[0-9a-z]{14}$/, 'must be a mailbox message id');

export const MailboxListQuery = PageQuery;
export type MailboxListQuery = z.infer<typeof MailboxListQuery>;

const Address = z.string().describe('An address as the header names it, e.g. "Dana Boss <dana@acme.example>"');

export const MailboxMessageSummary = z
  .object({
    id: MailboxMessageId,
    /** The From header. */
    from: Address,
    /** The To header's addresses. */
    to: z.array(z.string()),
    /** Whom the SMTP client delivered it to (RCPT TO): the mailboxes it is in. */
    deliveredTo: z.array(z.string()),
    subject: z.string(),
    /** The Date header (the instant received when it has none). */
    date: z.string().describe('ISO 8601 instant'),
    /** When the capture server accepted it. */
    receivedAt: z.string().describe('ISO 8601 instant'),
    messageId: z.string().nullable(),
    hasHtml: z.boolean(),
    attachmentCount: z.number().int().describe('How many attachments it carries (e.g. an .ics invite)'),
  })
  .meta({ id: 'MailboxMessageSummary' });
export type MailboxMessageSummary = z.infer<typeof MailboxMessageSummary>;

export const MailboxAttachment = z
  .object({
    filename: z.string().nullable(),
    /** The MIME type, e.g. text/calendar. */
    contentType: z.string(),
    /** Parameters of its Content-Type, e.g. { method: "REQUEST", charset: "utf-8" } for an invite. */
    params: z.record(z.string(), z.string()),
    size: z.number().int(),
    /** `utf8` for text (an .ics invite is text), `base64` for anything else. */
    encoding: z.enum(['utf8', 'base64']),
    content: z.string(),
  })
  .meta({ id: 'MailboxAttachment' });
export type MailboxAttachment = z.infer<typeof MailboxAttachment>;

export const MailboxMessage = MailboxMessageSummary.extend({
  text: z.string().describe('The plain-text body'),
  html: z
    .string()
    .nullable()
    .describe(
      'The HTML body exactly as received — not sanitised. Render it only in a sandboxed iframe (sandbox without allow-scripts and allow-same-origin, e.g. srcdoc), never into the page itself.',
    ),
  attachments: z.array(MailboxAttachment),
}).meta({ id: 'MailboxMessage' });
export type MailboxMessage = z.infer<typeof MailboxMessage>;

export const MailboxList = ListOf(MailboxMessageSummary).meta({ id: 'MailboxList' });
export type MailboxList = z.infer<typeof MailboxList>;
