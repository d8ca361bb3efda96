import nodemailer, { type SendMailOptions } from 'nodemailer';

/** What the service needs of an SMTP server. */
export interface Mailer {
  /** Resolves when the server accepted the message for every recipient. */
  send(message: SendMailOptions): Promise<void>;
  /** Connects, greets and quits: is the server there and talking SMTP? */
  verify(): Promise<void>;
  close(): void;
}

export interface SmtpMailerOptions {
  /** e.g. smtp://127.0.0.1:2525, smtps://user:pass@mail.example.com */
  url: string;
  /** Bounds one attempt, so a hung server cannot hold a claim beyond its lease. */
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** SMTP delivery through nodemailer: one connection per message (no pool to go stale between bursts). */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    greetingTimeout: options.connectionTimeoutMs ?? 5_000,
    socketTimeout: options.socketTimeoutMs ?? 15_000,
  });
  return {
    async send(message) {
      const info = await transport.sendMail(message);
      if (info.rejected.length > 0) {
        throw new Error(`SMTP server refused ${info.rejected.map(String).join(', ')}: ${info.response}`);
      }
    },
    async verify() {
      await transport.verify();
    },
    close() {
      transport.close();
    },
  };
}

/** A one-line reason for last_error, with the SMTP reply code when there is one. */
export function describeSmtpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 1000);
  const e = err as Error & { code?: string; responseCode?: number };
  const parts = [e.code, e.responseCode === undefined ? undefined : `SMTP ${e.responseCode}`].filter(Boolean);
  const text = `${parts.length ? `${parts.join(' ')}: ` : ''}${e.message}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 1000);
}
