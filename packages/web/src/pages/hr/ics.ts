import type { Interview } from '../../api/hr.ts';

const stamp = (iso: string) => new Date(iso).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
/** RFC 5545 TEXT: backslash, semicolon, comma and line breaks escaped. */
const text = (s: string) => s.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n');

/**
 * The interview as an iCalendar file to add to one's calendar: the same UID and SEQUENCE as the invites
 * HR emails, so a calendar that has the invite treats this as the same event.
 */
export function interviewIcs(interview: Interview, summary: string): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//EMS//Exit Management System web//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${interview.uid}`,
    `SEQUENCE:${interview.sequence}`,
    `DTSTAMP:${stamp(new Date().toISOString())}`,
    `DTSTART:${stamp(interview.start)}`,
    `DTEND:${stamp(interview.end)}`,
    `SUMMARY:${text(summary)}`,
    `STATUS:${interview.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** A link target that downloads the file (a data: URL: nothing to revoke, nothing fetched). */
export function icsHref(ics: string): string {
  return `data:text/calendar;charset=utf-8,${encodeURIComponent(ics)}`;
}
