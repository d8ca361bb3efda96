import { describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildMailMessage, calendarMethod, messageIdFor, type OutgoingEmail } from './mail-message.ts';
import { headerFilename, headerValue } from './header.ts';

const ID = '0b7d3c0e-6f55-4c55-9d7a-1f2e3d4c5b6a';
const email = (over: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  id: ID,
  recipient: 'bob@acme.example',
  recipientName: 'Bob Manager',
  subject: 'Resignation: Alice',
  text: 'hello',
  html: '<p>hello</p>',
  messageId: messageIdFor(ID),
  attachments: [],
  ...over,
});

/** Compiles the message to its RFC 5322 form in memory (no network) and splits off the header block. */
async function compile(message: ReturnType<typeof buildMailMessage>) {
  const composer = new MailComposer(message);
  const node = composer.compile();
  const raw = (await node.build()).toString('utf8');
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  // Unfold continuation lines so each entry is one whole header.
  const headers = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  return { raw, headers, envelope: node.getEnvelope() };
}

describe('headerValue', () => {
  it('when a value holds CR, LF, tabs or other control characters, then they become single spaces on one line', () => {
    expect(headerValue('Bob\r\nBcc: evil@x')).toBe('Bob Bcc: evil@x');
    expect(headerValue(' a\tb\u0000c\u007fd\u0085e\u2028f ')).toBe('a b c d e f');
  });

  it('when a file name holds path separators or quotes, then they are replaced', () => {
    expect(headerFilename('../../etc/passwd"\r\nX: y')).toBe('.._.._etc_passwd_ X: y');
    expect(headerFilename('\r\n')).toBe('attachment');
  });
});

describe('buildMailMessage', () => {
  it('when the display name tries to inject "\\r\\nBcc: evil@x", then it adds neither a header nor a recipient', async () => {
    const message = buildMailMessage(email({ recipientName: 'Bob\r\nBcc: evil@x', subject: 'Hi\r\nBcc: evil2@x' }), 'EMS <ems@acme.example>');

    // The name travels as an address object, flattened to one line.
    expect(message.to).toEqual({ name: 'Bob Bcc: evil@x', address: 'bob@acme.example' });
    expect(message.subject).toBe('Hi Bcc: evil2@x');

    const { headers, envelope } = await compile(message);
    expect(headers.filter((h) => /^bcc:/i.test(h))).toEqual([]);
    expect(headers.filter((h) => /^to:/i.test(h))).toHaveLength(1);
    expect(headers.find((h) => /^to:/i.test(h))).toMatch(/<bob@acme\.example>$/);
    expect(headers.filter((h) => /^subject:/i.test(h))).toEqual(['Subject: Hi Bcc: evil2@x']);
    expect(envelope.to).toEqual(['bob@acme.example']);
  });

  it('when an attachment file name carries CR/LF, then no extra header appears in the attachment part', async () => {
    const message = buildMailMessage(
      email({ attachments: [{ filename: 'a.txt\r\nX-Injected: 1', contentType: 'text/plain', content: 'x' }] }),
      'EMS <ems@acme.example>',
    );
    const { raw } = await compile(message);
    expect(raw).not.toMatch(/^X-Injected:/im);
  });

  it('when the email is built, then it carries the stored Message-ID', async () => {
    const { headers } = await compile(buildMailMessage(email(), 'EMS <ems@acme.example>'));
    expect(headers).toContain(`Message-ID: <${ID}@ems.local>`);
  });

  it('when an ICS file is attached, then it is a named text/calendar attachment and an invite alternative with its method', async () => {
    const ics = 'BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n';
    const message = buildMailMessage(
      email({ attachments: [{ filename: 'interview.ics', contentType: 'text/calendar; method=CANCEL', content: ics }] }),
      'EMS <ems@acme.example>',
    );
    expect(message.attachments).toEqual([{ filename: 'interview.ics', contentType: 'text/calendar; method=CANCEL', content: ics }]);
    expect(message.alternatives).toEqual([{ contentType: 'text/calendar; charset=utf-8; method=CANCEL', content: ics }]);
    expect(message.icalEvent).toBeUndefined();
  });
});

describe('calendarMethod', () => {
  it('when the content type names a method, then that method is used', () => {
    expect(calendarMethod({ contentType: 'text/calendar; method=request', content: '' })).toBe('REQUEST');
    expect(calendarMethod({ contentType: 'text/calendar; charset=utf-8; method="CANCEL"', content: '' })).toBe('CANCEL');
  });

  it('when only the file names a method, then the METHOD line is used, else PUBLISH', () => {
    expect(calendarMethod({ contentType: 'text/calendar', content: 'BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR' })).toBe('CANCEL');
    expect(calendarMethod({ contentType: 'text/calendar', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR' })).toBe('PUBLISH');
  });
});
