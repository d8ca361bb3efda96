import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject, type Attachment } from 'mailparser';
import type { Readable } from 'node:stream';
import { contentTypeParams, type Maildir } from '../mailbox/maildir.ts';

/** A message the capture server received, parsed. */
export interface CapturedMessage {
  messageId: string | null;
  /** The From header as text, e.g. 'EMS <ems@acme.example>'. */
  from: string;
  /** Addresses in the To header. */
  to: string[];
  /** Who the SMTP client actually asked to deliver to (MAIL FROM / RCPT TO): the real recipients. */
  envelope: { from: string; to: string[] };
  subject: string;
  text: string;
  html: string | null;
  /** Raw header lines of the message in order (lower-case key, unparsed line). */
  headerLines: { key: string; line: string }[];
  attachments: CapturedAttachment[];
  receivedAt: Date;
}

export interface CapturedAttachment {
  filename: string | null;
  /** The MIME type, e.g. 'text/calendar'. */
  contentType: string;
  /** Parameters of the Content-Type header, lower-case keys, e.g. { method: 'REQUEST', charset: 'utf-8' }. */
  params: Record<string, string>;
  contentDisposition: string | null;
  content: string;
}

export interface CaptureSmtpServer {
  /** smtp://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Messages received so far, oldest first (a copy). */
  messages(): CapturedMessage[];
  stop(): Promise<void>;
}

export interface CaptureSmtpOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  onMessage?: (message: CapturedMessage) => void | Promise<void>;
  /** Oldest messages are dropped beyond this many (default 1000), so a long-running demo stays small. */
  keep?: number;
  /** Where every message is also stored, raw, before the client is told it was accepted (the mailbox). */
  maildir?: Maildir;
}

/**
 * An SMTP server on 127.0.0.1 that accepts every message (no auth, no TLS) and keeps it, parsed, in
 * this process — and, given a Maildir, on disk (the embedded default's mailbox). It stands in for a mail
 * relay in the embedded default and in tests; it never relays.
 */
export async function startCaptureSmtpServer(options: CaptureSmtpOptions = {}): Promise<CaptureSmtpServer> {
  const keep = options.keep ?? 1000;
  const received: CapturedMessage[] = [];

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
      };
      readAll(stream)
        .then(async (raw) => {
          if ((stream as { sizeExceeded?: boolean }).sizeExceeded) throw Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 });
          if (options.maildir) await options.maildir.deliver(raw, envelope);
          const message = toCaptured(await simpleParser(raw), envelope);
          received.push(message);
          if (received.length > keep) received.splice(0, received.length - keep);
          await options.onMessage?.(message);
        })
        .then(
          () => callback(),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.server.address();
      if (address && typeof address === 'object') resolve(address.port);
      else reject(new Error('capture SMTP server has no port'));
    });
  });
  // After start-up, a broken client connection must not crash the process.
  server.on('error', () => undefined);

  let stopped: Promise<void> | undefined;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages: () => [...received],
    stop() {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}

function toCaptured(mail: Awaited<ReturnType<typeof simpleParser>>, envelope: CapturedMessage['envelope']): CapturedMessage {
  return {
    messageId: mail.messageId ?? null,
    from: mail.from?.text ?? '',
    to: addresses(mail.to),
    envelope,
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : null,
    headerLines: mail.headerLines.map((h) => ({ key: h.key, line: h.line })),
    attachments: mail.attachments.map(toAttachment),
    receivedAt: new Date(),
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.flatMap((v) => (v.address ? [v.address] : [])));
}

function toAttachment(a: Attachment): CapturedAttachment {
  return {
    filename: a.filename ?? null,
    contentType: a.contentType,
    params: contentTypeParams(a.headers.get('content-type')),
    contentDisposition: a.contentDisposition ?? null,
    content: a.content.toString('utf8'),
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
