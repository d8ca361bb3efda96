import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { startCaptureSmtpServer, type CaptureSmtpServer } from '../src/index.ts';
import { buildMailMessage, messageIdFor } from '../src/domain/mail-message.ts';
import { createSmtpMailer, describeSmtpError, type Mailer } from '../src/smtp/mailer.ts';
import { createSmtpMailerOffThread } from '../src/smtp/mailer-thread.ts';
import { freePort } from './harness.ts';

// The service sends through an SMTP thread (mailer-thread.ts); these are what that boundary must keep.

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function track(mailer: Mailer): Mailer {
  cleanup.push(() => mailer.close());
  return mailer;
}

async function capture(): Promise<CaptureSmtpServer> {
  const server = await startCaptureSmtpServer({});
  cleanup.unshift(() => server.stop());
  return server;
}

async function smtpServer(options: ConstructorParameters<typeof SMTPServer>[0]): Promise<string> {
  const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return `smtp://127.0.0.1:${address.port}`;
}

const message = (id: string) =>
  buildMailMessage(
    {
      id,
      recipient: 'maria.manager@acme.example',
      recipientName: 'Maria Manager',
      subject: `Resignation ${id}`,
      text: 'Plain text',
      html: '<p>Plain text</p>',
      messageId: messageIdFor(id),
      attachments: [{ filename: 'invite.ics', contentType: 'text/calendar; method=REQUEST', content: 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n' }],
    },
    { name: 'EMS', address: 'ems@acme.example' },
  );

describe('the SMTP thread', () => {
  it('when a message is sent through the thread, then the server receives it as the mailer on the service’s thread sends it', async () => {
    const server = await capture();
    await track(createSmtpMailerOffThread({ url: server.url })).send(message('thread'));
    await track(createSmtpMailer({ url: server.url })).send(message('inline'));

    const [viaThread, inline] = server.messages();
    expect(viaThread).toMatchObject({ messageId: messageIdFor('thread'), subject: 'Resignation thread', to: ['maria.manager@acme.example'] });
    const strip = (m: typeof viaThread) => ({ ...m, messageId: null, subject: '', receivedAt: null, headerLines: m!.headerLines.filter((h) => !/^(message-id|subject|date|x-ems-email-id|content-type)$/i.test(h.key)) });
    // The same message but for what names it (and the MIME boundaries nodemailer draws at random).
    expect(strip(viaThread)).toEqual(strip(inline));
    expect(viaThread!.attachments.map((a) => a.contentType)).toEqual(inline!.attachments.map((a) => a.contentType));
  });

  it('when the server refuses the recipient, or is not there, then the error recorded is the one the mailer on the service’s thread gives', async () => {
    const refusing = await smtpServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      },
    });
    const absent = `smtp://127.0.0.1:${await freePort()}`;
    for (const url of [refusing, absent]) {
      const [viaThread, inline] = await Promise.all(
        [createSmtpMailerOffThread({ url }), createSmtpMailer({ url })].map((m) =>
          track(m)
            .send(message('refused'))
            .then(
              () => 'sent',
              (err: unknown) => describeSmtpError(err),
            ),
        ),
      );
      expect(viaThread).not.toBe('sent');
      expect(viaThread).toBe(inline);
    }
    const refused = await track(createSmtpMailerOffThread({ url: refusing })).send(message('refused')).catch((err: unknown) => err);
    expect(refused).toMatchObject({ responseCode: 550 });
    expect(describeSmtpError(refused)).toMatch(/^EENVELOPE SMTP 550: .*No such user here/);
  });

  it('when the mailer is closed with a send in flight, then that send still goes out, and a send after the close goes out over a new thread', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const received: string[] = [];
    const url = await smtpServer({
      onData(stream, _session, callback) {
        let body = '';
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => {
          received.push(/^Subject: (.*)$/m.exec(body)?.[1] ?? '?');
          // The first message is held until the mailer has been closed.
          void (received.length === 1 ? held : Promise.resolve()).then(() => callback());
        });
      },
    });
    const mailer = track(createSmtpMailerOffThread({ url }));
    const first = mailer.send(message('first'));
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    mailer.close();
    release();
    await first;
    await mailer.send(message('second'));
    expect(received).toEqual(['Resignation first', 'Resignation second']);
  });

  it('when nothing more is asked of it, then the SMTP thread does not keep the process alive', async () => {
    const server = await capture();
    // A process that sends one message and never closes its mailer: it ends by itself.
    const script = `
      import { createSmtpMailerOffThread } from ${JSON.stringify(new URL('../src/smtp/mailer-thread.ts', import.meta.url).href)};
      await createSmtpMailerOffThread({ url: ${JSON.stringify(server.url)} }).send({ from: 'ems@acme.example', to: 'x@acme.example', subject: 'one', text: 'one' });
      console.log('sent');
    `;
    const dir = await mkdtemp(join(tmpdir(), 'ems-mailer-thread-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'send-once.mjs'), script);
    const child = spawn(process.execPath, [join(dir, 'send-once.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cleanup.push(() => void child.kill('SIGKILL'));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(out.trim()).toBe('sent');
    expect(code).toBe(0);
    expect(server.messages().map((m) => m.subject)).toEqual(['one']);
  }, 60_000);
});
