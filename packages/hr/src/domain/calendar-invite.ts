import { createEvent, type EventAttributes } from 'ics';
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
  const utc = { startInputType: 'utc', startOutputType: 'utc', endInputType: 'utc', endOutputType: 'utc' } as const;
  const attributes = {
    ...utc,
    productId: '-//EMS//HR exit interviews//EN',
    method: event.method,
    uid: event.uid,
    sequence: event.sequence,
    // `timestamp` (DTSTAMP) is supported by ics but missing from its type declarations.
    timestamp: event.stamp.getTime(),
    start: event.start.getTime(),
    end: event.end.getTime(),
    title: event.summary,
    description: event.description,
    status: event.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED',
    busyStatus: 'BUSY',
    organizer: { name: event.organizer.name, email: event.organizer.email },
    attendees: event.attendees.map((a) => ({
      name: a.name,
      email: a.email,
      rsvp: event.method === 'REQUEST',
      partstat: 'NEEDS-ACTION',
      role: 'REQ-PARTICIPANT',
    })),
  } satisfies EventAttributes & { timestamp: number };
  const { error, value } = createEvent(attributes);
  if (error || !value) throw new Error(`could not build the calendar invite: ${error?.message ?? 'no output'}`);
  return foldByOctets(value);
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
