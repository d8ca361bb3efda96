import { DateTime } from 'luxon';
import { notification } from '@ems/contracts';
import type { InviteNotSent } from '@ems/contracts/events';
import { foldByOctets } from './ics-fold.ts';

/**
 * The exit interview as an iCalendar (RFC 5545) scheduling message, and the emails that carry it.
 *
 * One event per interview: its UID never changes, and every change (reschedule, cancel) is sent with
 * a higher SEQUENCE, so calendar clients update or remove the event they already have instead of
 * adding another.
 */

export interface Person {
  name: string;
  email: string;
}

export type InviteMethod = 'REQUEST' | 'CANCEL';

export interface InviteEvent {
  method: InviteMethod;
  uid: string;
  sequence: number;
  start: Date;
  end: Date;
  /** DTSTAMP: when this version of the message was created. */
  stamp: Date;
  summary: string;
  description: string;
  organizer: Person;
  attendees: readonly Person[];
}

export function calendarInvite(event: InviteEvent): string {
  // RFC 5545 written here, not by the `ics` library: its output for these inputs is the same (a property test
  // compares them, packages/hr/src/domain/calendar-invite.ics.test.ts), but it validates its input with yup on
  // every call — about 4 % of the EMS thread in a burst, for values that are ours and already valid.
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    `PRODID:${oneLine(PRODUCT_ID)}`,
    `METHOD:${event.method}`,
    'X-PUBLISHED-TTL:PT1H',
    'BEGIN:VEVENT',
    `UID:${oneLine(event.uid)}`,
    ...(event.summary ? [`SUMMARY:${text(event.summary)}`] : []),
    `DTSTAMP:${utc(event.stamp)}`,
    `DTSTART:${utc(event.start)}`,
    `DTEND:${utc(event.end)}`,
    `SEQUENCE:${event.sequence}`,
    ...(event.description ? [`DESCRIPTION:${text(event.description)}`] : []),
    `STATUS:${event.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED'}`,
    `ORGANIZER;CN=${param(event.organizer.name)}:MAILTO:${oneLine(event.organizer.email)}`,
    'X-MICROSOFT-CDO-BUSYSTATUS:BUSY',
    ...event.attendees.map(
      (a) => `ATTENDEE;RSVP=${event.method === 'REQUEST' ? 'TRUE' : 'FALSE'};ROLE="REQ-PARTICIPANT";PARTSTAT="NEEDS-ACTION";CN=${param(a.name)}:mailto:${oneLine(a.email)}`,
    ),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return foldByOctets(lines.join('\r\n') + '\r\n');
}

const PRODUCT_ID = '-//EMS//HR exit interviews//EN';

/** An instant as an RFC 5545 UTC date-time: 20260330T073000Z (seconds kept, milliseconds dropped). */
function utc(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped. */
function text(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/;/g, '\\;').replace(/,/g, '\\,');
}

/** A value on one content line: a line break becomes the two characters \n. */
function oneLine(value: string): string {
  return value.replace(/\r?\n/g, '\\n');
}

/** A quoted parameter value (RFC 5545 §3.2, with RFC 6868's ^-escapes for what a quoted value cannot hold). */
function param(value: string): string {
  return `"${value.replace(/\^/g, '^^').replace(/\r?\n/g, '^n').replace(/"/g, "^'")}"`;
}

/** What an interview invite is about; the instants and zones of one version of the interview. */
export interface InterviewInvite {
  interviewId: string;
  resignationId: string;
  uid: string;
  sequence: number;
  start: Date;
  end: Date;
  employee: Person & { timezone: string };
  hrPartner: Person & { timezone: string };
}

export const INVITE_TEMPLATES = {
  REQUEST: 'exit-interview-invite',
  CANCEL: 'exit-interview-cancelled',
} as const satisfies Record<InviteMethod, notification.EmailTemplate>;

/** The purpose key Notification de-duplicates on: one email per recipient per version of the interview. */
export function invitePurpose(method: InviteMethod, interviewId: string, sequence: number): `interview-invite:${string}:${number}` | `interview-cancelled:${string}:${number}` {
  return method === 'REQUEST' ? notification.EmailPurposes.interviewInvite(interviewId, sequence) : notification.EmailPurposes.interviewCancelled(interviewId, sequence);
}

/** Whom an invite is for: one of the interview's two people (the contracts' InviteNotSent['to']). */
export type Invitee = InviteNotSent['to'];

/** One email of an interview's invites and whom it is for, said where it is built so that nothing downstream infers it. */
export interface Invite {
  invitee: Invitee;
  email: notification.InterviewInviteEmail | notification.InterviewCancelledEmail;
}

/**
 * The two emails (the employee's, then the HR partner's) for one version of the interview, each with the
 * same ICS and with times shown in the recipient's own zone.
 */
export function inviteEmails(method: InviteMethod, invite: InterviewInvite, stamp: Date): Invite[] {
  const partnerLocal = DateTime.fromJSDate(invite.start, { zone: invite.hrPartner.timezone });
  const ics = calendarInvite({
    method,
    uid: invite.uid,
    sequence: invite.sequence,
    start: invite.start,
    end: invite.end,
    stamp,
    summary: `Exit interview: ${invite.employee.name} with ${invite.hrPartner.name}`,
    description:
      method === 'REQUEST'
        ? `Exit interview of ${invite.employee.name} with ${invite.hrPartner.name} (HR), ${partnerLocal.toFormat('cccc d LLLL yyyy, HH:mm')} ${invite.hrPartner.timezone}.`
        : `The exit interview of ${invite.employee.name} with ${invite.hrPartner.name} (HR) is cancelled.`,
    organizer: invite.hrPartner,
    attendees: [invite.employee, invite.hrPartner],
  });
  const purpose = invitePurpose(method, invite.interviewId, invite.sequence);
  return (['employee', 'hrPartner'] as const).map((invitee) => {
    const recipient = invite[invitee];
    return {
      invitee,
      email: {
        resignationId: invite.resignationId,
        purpose,
        to: { email: recipient.email, name: recipient.name },
        template: INVITE_TEMPLATES[method],
        data: {
          recipientName: recipient.name,
          employeeName: invite.employee.name,
          hrPartnerName: invite.hrPartner.name,
          start: invite.start.toISOString(),
          end: invite.end.toISOString(),
          timezone: recipient.timezone,
        },
        attachments: [{ filename: 'invite.ics', contentType: `text/calendar; method=${method}`, content: ics }],
      },
    };
  });
}
