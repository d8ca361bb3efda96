import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

/** A real SMTP server on loopback that keeps every message it accepts, parsed. */
export interface SmtpSink {
  url: string;
  port: number;
  messages: ParsedMail[];
  /** Recipients of each message as the SMTP envelope said (RCPT TO), in order. */
  envelopes: string[][];
  /** Stops listening (connections are refused) until up(); the port stays the same. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const onData: SMTPServerOptions['onData'] = (stream, session, callback) => {
    simpleParser(stream)
      .then((mail) => {
        messages.push(mail);
        envelopes.push(session.envelope.rcptTo.map((r) => r.address));
        callback();
      })
      .catch((err: Error) => callback(err));
  };
  const make = () => {
    const s = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData,
    });
    // A client that vanishes mid-connection (the crash tests kill EMS with its pooled SMTP connections
    // open) surfaces as an 'error' on the server: without a listener it would crash the test process.
    s.on('error', () => undefined);
    return s;
  };
  let server = make();
  let listening = false;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        listening = true;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    envelopes,
    down: close,
    up: async () => {
      if (listening) return;
      server = make();
      await listen(port);
    },
    stop: close,
  };
}
