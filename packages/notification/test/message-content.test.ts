import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaptureSmtpServer, type CapturedMessage, type CaptureSmtpServer } from '../src/index.ts';
import { asHr, bootService, ics, interviewEmail, managerNotice, openCase, openDatabase, postEmail, type RunningService } from './harness.ts';

let database: Awaited<ReturnType<typeof openDatabase>>;
let smtp: CaptureSmtpServer;
let svc: RunningService;

beforeAll(async () => {
  database = await openDatabase();
  smtp = await startCaptureSmtpServer();
  svc = await bootService(database, { smtpUrl: smtp.url });
});

afterAll(async () => {
  await svc?.close();
  await smtp?.stop();
  await database?.close();
});

function received(messageId: string | null): CapturedMessage {
  const found = smtp.messages().filter((m) => m.messageId === messageId);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('header injection', () => {
  it('when the recipient name and template data carry "\\r\\nBcc: evil@x", then no Bcc header and no extra recipient reach the SMTP server', async () => {
    const before = smtp.messages().length;
    const kase = openCase();
    // The display name sent is replaced by the directory's; the template data is the caller's and is rendered.
    const res = await postEmail(
      svc,
      managerNotice(kase, {
        name: `${kase.manager.name}\r\nBcc: evil@x`,
        data: { employeeName: 'Alice\r\nBcc: evil2@x\r\nX-Injected: yes', managerName: 'Dana\nCc: evil3@x' },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');

    const message = received(res.body.messageId);
    expect(smtp.messages().length).toBe(before + 1);
    // The envelope is what the server delivers to: only the addressee.
    expect(message.envelope.to).toEqual([kase.manager.email]);
    expect(message.to).toEqual([kase.manager.email]);
    const keys = message.headerLines.map((h) => h.key);
    expect(keys).not.toContain('bcc');
    expect(keys).not.toContain('cc');
    expect(keys).not.toContain('x-injected');
    expect(keys.filter((k) => k === 'to')).toHaveLength(1);
    expect(message.subject).toBe('Resignation: Alice Bcc: evil2@x X-Injected: yes, last working day Friday, 12 December 2025');
    for (const m of smtp.messages()) expect(m.envelope.to).not.toContain('evil@x');
  });
});

/** HR's invitation (REQUEST) or cancellation (CANCEL) to the employee of a case of its own, carrying `content` as its .ics file. */
function interviewFor(method: 'REQUEST' | 'CANCEL', content: string) {
  return interviewEmail(openCase(), 'employee', { method, attachments: [{ filename: 'exit-interview.ics', contentType: `text/calendar; method=${method}`, content }] });
}

describe('calendar attachments', () => {
  it.each([
    ['exit-interview-invite', 'REQUEST'],
    ['exit-interview-cancelled', 'CANCEL'],
  ] as const)('when %s carries an ICS file, then it arrives as text/calendar with method %s and its file name, plus an invite part', async (template, method) => {
    const content = ics(method, `${randomUUID()}@ems.local`);
    // HR sends the exit-interview invitations, with its own service identity.
    const request = interviewFor(method, content);
    expect(request.template).toBe(template);
    const res = await postEmail(svc, request, await asHr(svc));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('sent');
    expect(res.body.attachments).toEqual([{ filename: 'exit-interview.ics', contentType: `text/calendar; method=${method}` }]);

    const message = received(res.body.messageId);
    const named = message.attachments.filter((a) => a.filename === 'exit-interview.ics');
    expect(named).toHaveLength(1);
    expect(named[0]).toMatchObject({ contentType: 'text/calendar', contentDisposition: 'attachment', content });
    expect(named[0]!.params.method).toBe(method);

    // The alternative body part mail clients render as an invite (Accept / Decline).
    const invite = message.attachments.filter((a) => a.filename === null && a.contentType === 'text/calendar');
    expect(invite).toHaveLength(1);
    expect(invite[0]!.params).toMatchObject({ method, charset: 'utf-8' });
    expect(invite[0]!.content).toBe(content);
    expect(message.attachments).toHaveLength(2);

    expect(message.text).toContain('Tuesday, 16 December 2025, 10:00–10:45 (Europe/Berlin)');
  });
});

describe('capture SMTP server', () => {
  it('when messages arrive, then onMessage sees each and messages() keeps only the newest `keep`', async () => {
    const { default: nodemailer } = await import('nodemailer');
    const seen: string[] = [];
    const server = await startCaptureSmtpServer({ keep: 2, onMessage: (m) => void seen.push(m.subject) });
    try {
      const transport = nodemailer.createTransport({ url: server.url });
      for (const subject of ['one', 'two', 'three']) {
        await transport.sendMail({ from: 'a@acme.example', to: 'b@acme.example', subject, text: subject });
      }
      expect(seen).toEqual(['one', 'two', 'three']);
      expect(server.messages().map((m) => m.subject)).toEqual(['two', 'three']);
      expect(server.url).toBe(`smtp://127.0.0.1:${server.port}`);
    } finally {
      await server.stop();
    }
  });
});
