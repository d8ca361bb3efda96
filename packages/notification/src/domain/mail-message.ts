import type { Address, SendMailOptions } from 'nodemailer';
import { headerFilename, headerValue } from './header.ts';

/** An attachment as the caller gave it (and as it is stored). */
export interface EmailAttachment {
  filename: string;
  contentType: string;
  content: string;
}

/** What the builder needs of a stored email. */
export interface OutgoingEmail {
  id: string;
  recipient: string;
  recipientName: string | null;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  attachments: readonly EmailAttachment[];
}

/**
 * The Message-ID an email is sent with, derived from its id. It is stored with the row before the first
 * attempt, so every attempt (including a resend after a crash between the SMTP server's "250 accepted"
 * and our "mark sent" write) carries the same Message-ID, and receiving systems and mail clients can
 * recognise the duplicate.
 */
export function messageIdFor(emailId: string): string {
  return `<${emailId}@ems.local>`;
}

/**
 * Builds the nodemailer message. Pure: no I/O.
 *
 * Header safety: every header value that carries caller data (display name, subject, file names,
 * content types) is reduced to one line of printable text, and the recipient is handed to nodemailer
 * as an address object `{ name, address }`, which nodemailer encodes itself — a display name is never
 * spliced into a header string, so it can neither add a header nor a recipient.
 *
 * Calendar files: each `text/calendar` attachment is sent as a named attachment with its content type
 * (e.g. `text/calendar; method=REQUEST`), and the first one is also added as a `text/calendar;
 * method=…` alternative body part, which is what makes Outlook, Gmail and Apple Mail show the invite
 * with Accept/Decline. That alternative part is byte for byte what nodemailer's `icalEvent` option
 * produces; we add it through `alternatives` because `icalEvent` would attach the same file a third
 * time (as `application/ics`).
 */
export function buildMailMessage(email: OutgoingEmail, from: string | Address): SendMailOptions {
  const name = headerValue(email.recipientName ?? '');
  const attachments = email.attachments.map((a) => ({
    filename: headerFilename(a.filename),
    contentType: headerValue(a.contentType),
    content: a.content,
  }));
  const calendar = email.attachments.find((a) => mimeType(a.contentType) === 'text/calendar');
  return {
    from,
    to: name ? { name, address: email.recipient } : email.recipient,
    subject: headerValue(email.subject),
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    headers: { 'X-EMS-Email-Id': headerValue(email.id) },
    attachments,
    ...(calendar
      ? { alternatives: [{ contentType: `text/calendar; charset=utf-8; method=${calendarMethod(calendar)}`, content: calendar.content }] }
      : {}),
    // Attachments are inline strings: never let message data make nodemailer read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** 'Text/Calendar; method=REQUEST' → 'text/calendar'. */
export function mimeType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** The iTIP method: the content type's `method` parameter, else the file's METHOD line, else PUBLISH. */
export function calendarMethod(a: Pick<EmailAttachment, 'contentType' | 'content'>): string {
  const fromType = /;\s*method\s*=\s*"?([A-Za-z-]+)"?/i.exec(a.contentType)?.[1];
  const fromFile = /^METHOD:([A-Za-z-]+)\s*$/im.exec(a.content)?.[1];
  return (fromType ?? fromFile ?? 'PUBLISH').toUpperCase();
}
