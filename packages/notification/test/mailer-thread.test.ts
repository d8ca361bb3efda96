/**
 * The SMTP mailer on its worker thread, against real SMTP servers: a message crosses whole, a refusal crosses with
 * its SMTP reply code, close() lets a send in flight finish, and a send after close() starts a new thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { startCaptureSmtpServer, type CapturedMessage } from '../src/index.ts';
import { buildMailMessage } from '../src/domain/mail-message.ts';
import { createMailerThread } from '../src/smtp/mailer-thread.ts';
import { describeSmtpError, type Mailer } from '../src/smtp/mailer.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const message = (id: string) =>
  buildMailMessage(
    {
      id,
      recipient: 'maria.manager@acme.example',
      recipientName: 'Maria Manager',
      subject: `Resignation ${id}`,
      text: 'Plain text body',
      html: '<p>HTML body</p>',
      messageId: `<${id}@ems.local>`,
      attachments: [{ filename: 'interview.ics', contentType: 'text/calendar; method=REQUEST', content: 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n' }],
    },
    'EMS <ems@acme.example>',
  );

function mailer(url: string): Mailer {
  const m = createMailerThread({ url, connectionTimeoutMs: 2_000, socketTimeoutMs: 5_000 });
  cleanup.push(() => m.close());
  return m;
}

/** The rejection of `promise`, or a failure if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('the SMTP mailer on a worker thread', () => {
  it('when a message is sent, then the server receives it whole: recipient, Message-ID, both bodies, the calendar file', async () => {
    const smtp = await startCaptureSmtpServer();
    cleanup.unshift(() => smtp.stop());
    await mailer(smtp.url).send(message('m-1'));
    const [got] = smtp.messages();
    expect(got).toMatchObject({ messageId: '<m-1@ems.local>', to: ['maria.manager@acme.example'], subject: 'Resignation m-1', html: '<p>HTML body</p>' });
    expect(got!.text.trim()).toBe('Plain text body');
    expect(got!.attachments.map((a) => [a.filename, a.contentType])).toContainEqual(['interview.ics', 'text/calendar']);
  });

  it('when the server refuses the recipient, then the send fails with the SMTP reply code, as the service records it', async () => {
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      },
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    cleanup.unshift(() => new Promise<void>((resolve) => refusing.close(() => resolve())));
    const address = refusing.server.address();
    if (!address || typeof address !== 'object') throw new Error('no port');

    const err = await rejection(mailer(`smtp://127.0.0.1:${address.port}`).send(message('m-2')));
    expect(err).toBeInstanceOf(Error);
    expect(describeSmtpError(err)).toMatch(/^EENVELOPE SMTP 550: .*No such user here/);
  });

  it('when nothing listens, then verify fails with the connection error code', async () => {
    const smtp = await startCaptureSmtpServer();
    const url = smtp.url;
    await smtp.stop();
    expect(describeSmtpError(await rejection(mailer(url).verify()))).toMatch(/^ESOCKET: .*ECONNREFUSED/);
  });

  it('when close() comes while a send is in flight, then that send still completes, and a send after it goes through a new thread', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived: (m: CapturedMessage) => void = () => undefined;
    const first = new Promise<CapturedMessage>((resolve) => (arrived = resolve));
    const smtp = await startCaptureSmtpServer({
      onMessage: async (m) => {
        if (m.messageId === '<m-3@ems.local>') {
          arrived(m);
          // The server answers the DATA only when the test says so.
          await held;
        }
      },
    });
    cleanup.unshift(() => smtp.stop());
    const m = mailer(smtp.url);

    const inFlight = m.send(message('m-3'));
    await first;
    m.close();
    release();
    await inFlight;
    await m.send(message('m-4'));
    expect(smtp.messages().map((x) => x.messageId)).toEqual(['<m-3@ems.local>', '<m-4@ems.local>']);
  });

  it('when a message cannot cross to the thread, then the send fails at once and the next one still goes', async () => {
    const smtp = await startCaptureSmtpServer();
    cleanup.unshift(() => smtp.stop());
    const m = mailer(smtp.url);
    const unclonable = { ...message('m-5'), headers: { 'X-Fn': (() => 'x') as unknown as string } };
    expect(await rejection(m.send(unclonable))).toMatchObject({ name: 'DataCloneError' });
    await m.send(message('m-6'));
    expect(smtp.messages().map((x) => x.messageId)).toEqual(['<m-6@ems.local>']);
  });
});
