import { describe, expect, it } from 'vitest';
import { notification } from '@ems/contracts';
import { calendarInvite, inviteEmails, type InterviewInvite } from './calendar-invite.ts';

/** RFC 5545 content lines: unfold (CRLF + space/tab continues a line), then split NAME;PARAMS:VALUE. */
function contentLines(ics: string): { name: string; params: string; value: string }[] {
  return ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^([A-Z-]+)((?:;[^:]*)?):(.*)$/.exec(line);
      if (!m) throw new Error(`not a content line: ${line}`);
      return { name: m[1]!, params: m[2]!, value: m[3]! };
    });
}
const values = (ics: string, name: string) => contentLines(ics).filter((l) => l.name === name).map((l) => l.value);

const invite: InterviewInvite = {
  interviewId: '6f1c0a52-8d1e-4c1b-9d43-2f0c5a1e7b11',
  resignationId: '0b7e5a0e-3c7d-4a4e-8f2a-9a1e2b3c4d5e',
  uid: '6f1c0a52-8d1e-4c1b-9d43-2f0c5a1e7b11@hr.ems',
  sequence: 0,
  start: new Date('2026-03-30T07:30:00Z'),
  end: new Date('2026-03-30T08:00:00Z'),
  employee: { name: 'Ada Lovelace', email: 'ada.lovelace.1000@acme.example', timezone: 'America/New_York' },
  hrPartner: { name: 'Helga Richter', email: 'helga.richter@acme.example', timezone: 'Europe/Berlin' },
};
const stamp = new Date('2026-03-26T12:00:00Z');

describe('calendar invite', () => {
  it('when a name has non-ASCII letters, then no content line of the invite is longer than 75 octets (RFC 5545 §3.1)', () => {
    const employee = { name: 'Ådne Ørjasæter-Żółkiewski Çağlar Øvergård', email: 'adne.orjasaeter@acme.example', timezone: 'Europe/Oslo' };
    const ics = calendarInvite({
      method: 'REQUEST', uid: invite.uid, sequence: 0, start: invite.start, end: invite.end, stamp,
      summary: `Exit interview — ${employee.name} and ${invite.hrPartner.name}`, description: `Exit interview of ${employee.name}, with ${invite.hrPartner.name} (HR).`,
      organizer: invite.hrPartner, attendees: [employee, invite.hrPartner],
    });
    for (const line of ics.split('\r\n')) expect(Buffer.byteLength(line, 'utf8'), line).toBeLessThanOrEqual(75);
    expect(contentLines(ics).some((l) => l.name === 'ATTENDEE' && l.params.includes(employee.name))).toBe(true);
  });

  it('when an interview is booked, then the ICS is a REQUEST with a stable UID, SEQUENCE, UTC times, organizer and both attendees', () => {
    const ics = calendarInvite({
      method: 'REQUEST', uid: invite.uid, sequence: 0, start: invite.start, end: invite.end, stamp,
      summary: 'Exit interview', description: 'x', organizer: invite.hrPartner, attendees: [invite.employee, invite.hrPartner],
    });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toContain('\n'); // every line ends with CRLF
    expect(values(ics, 'METHOD')).toEqual(['REQUEST']);
    expect(values(ics, 'BEGIN')).toEqual(['VCALENDAR', 'VEVENT']);
    expect(values(ics, 'UID')).toEqual([invite.uid]);
    expect(values(ics, 'SEQUENCE')).toEqual(['0']);
    expect(values(ics, 'DTSTART')).toEqual(['20260330T073000Z']);
    expect(values(ics, 'DTEND')).toEqual(['20260330T080000Z']);
    expect(values(ics, 'DTSTAMP')).toEqual(['20260326T120000Z']);
    expect(values(ics, 'STATUS')).toEqual(['CONFIRMED']);
    expect(values(ics, 'ORGANIZER').map((v) => v.toLowerCase())).toEqual(['mailto:helga.richter@acme.example']);
    expect(values(ics, 'ATTENDEE').map((v) => v.toLowerCase())).toEqual([
      'mailto:ada.lovelace.1000@acme.example',
      'mailto:helga.richter@acme.example',
    ]);
  });

  it('when an interview is cancelled, then the ICS is a CANCEL of the same UID with the higher SEQUENCE', () => {
    const ics = calendarInvite({
      method: 'CANCEL', uid: invite.uid, sequence: 2, start: invite.start, end: invite.end, stamp,
      summary: 'Exit interview', description: 'x', organizer: invite.hrPartner, attendees: [invite.employee, invite.hrPartner],
    });
    expect(values(ics, 'METHOD')).toEqual(['CANCEL']);
    expect(values(ics, 'UID')).toEqual([invite.uid]);
    expect(values(ics, 'SEQUENCE')).toEqual(['2']);
    expect(values(ics, 'STATUS')).toEqual(['CANCELLED']);
  });
});

describe('invite emails', () => {
  it('when invites are built, then there is one valid SendEmailRequest per recipient, saying whom it is for, with the ICS attached and times in their zone', () => {
    const invites = inviteEmails('REQUEST', { ...invite, sequence: 1 }, stamp);
    expect(invites.map((i) => i.invitee)).toEqual(['employee', 'hrPartner']);
    const emails = invites.map((i) => i.email);
    expect(emails.map((e) => e.to.email)).toEqual([invite.employee.email, invite.hrPartner.email]);
    for (const e of emails) {
      expect(notification.SendEmailRequest.parse(e)).toEqual(e);
      expect(e.template).toBe('exit-interview-invite');
      expect(e.purpose).toBe(`interview-invite:${invite.interviewId}:1`);
      expect(e.attachments).toHaveLength(1);
      expect(e.attachments[0]!.filename).toBe('invite.ics');
      expect(e.attachments[0]!.contentType).toBe('text/calendar; method=REQUEST');
      expect(values(e.attachments[0]!.content, 'SEQUENCE')).toEqual(['1']);
      expect(notification.InterviewInviteData.parse(e.data)).toEqual(e.data);
    }
    expect(emails.map((e) => e.data.timezone)).toEqual(['America/New_York', 'Europe/Berlin']);
  });

  it('when a cancellation is built, then it uses the cancellation template, purpose and METHOD:CANCEL content type', () => {
    const emails = inviteEmails('CANCEL', { ...invite, sequence: 3 }, stamp).map((i) => i.email);
    expect(emails).toHaveLength(2);
    for (const e of emails) {
      expect(e.template).toBe('exit-interview-cancelled');
      expect(e.purpose).toBe(`interview-cancelled:${invite.interviewId}:3`);
      expect(e.attachments[0]!.contentType).toBe('text/calendar; method=CANCEL');
      expect(values(e.attachments[0]!.content, 'METHOD')).toEqual(['CANCEL']);
    }
  });
});
