import { PassThrough, type Readable } from 'node:stream';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';

/** What the service needs of an SMTP server. */
export interface Mailer {
  /** Resolves when the server accepted the message for every recipient. */
  send(message: SendMailOptions): Promise<void>;
  /** Connects, greets and quits: is the server there and talking SMTP? */
  verify(): Promise<void>;
  /** Closes the pooled connections (after the sends in flight); a later send opens new ones. */
  close(): void;
}

export interface SmtpMailerOptions {
  /** e.g. smtp://127.0.0.1:2525, smtps://user:pass@mail.example.com */
  url: string;
  /** Bounds one attempt, so a hung server cannot hold a claim beyond its lease. */
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Connections kept open to the server at most; default SMTP_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** An idle pooled connection is closed (QUIT) after this long; default 1 s. */
  idleTimeoutMs?: number;
}

/**
 * Connections the pool opens at most (EMS_SMTP_MAX_CONNECTIONS). The service never hands the pool more
 * messages at once than this (see send-slots.ts), so a message handed over starts at once instead of
 * waiting in nodemailer's queue while its claim's lease runs out. A message takes a few round trips, so
 * under load delivery is bound by connections × round-trip time, not by CPU: measured on a burst of 1,000
 * resignations (3,000 emails) to a local relay, 8 connections → manager notified p50 22 s, 32 → 5.5 s,
 * with the relay at ~1 ms of CPU per case. 16 leaves room under the per-client limits relays commonly set.
 */
export const SMTP_MAX_CONNECTIONS = 16;

/**
 * SMTP delivery through nodemailer's connection pool. The service runs it on a thread of its own
 * (mailer-thread.ts); this is what that thread runs.
 *
 * Why a pool: opening a connection per message (connect, greeting, EHLO, QUIT) cost about as much CPU
 * as the message itself, and a burst opened hundreds of connections at once. A pooled connection
 * sends MAIL FROM / RCPT TO / DATA and nothing else.
 *
 * Why it is safe when the server drops or restarts between bursts (nodemailer ≥ 10.3):
 * - an idle connection the server closes is noticed and removed from the pool;
 * - a message that meets a dead reused connection before a byte of it was sent is put back on the
 *   queue and goes out over a fresh connection (nothing reached the server, so no duplicate);
 * - any other failure, once message data went out, rejects the send: the email's claim records the
 *   error and the dispatcher retries it with backoff, with the same Message-ID — exactly what a
 *   failed per-message connection did.
 * We close idle connections ourselves after `idleTimeoutMs` (1 s): connections are kept while mail
 * flows, but a quiet service holds none — no stale connection between bursts, and a mail server that
 * shuts down gracefully (waiting for its clients to leave) is not kept waiting by idle ones.
 *
 * Why the message is gathered before it is written: nodemailer streams a composed message part by
 * part, and each part became a socket write of its own (about 30 % of nodemailer's CPU). A `stream`
 * plugin collects the composed message into one buffer (as DKIM signing does), so it goes out in one
 * write; the bytes are the same. (Handing nodemailer a prebuilt `raw` message instead is not safe
 * with the pool: a raw message put back on the queue after a dropped connection was sent over the
 * new connection and still reported the old connection's error — a resend waiting to happen.)
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const connectionTimeout = options.connectionTimeoutMs ?? 5_000;
  let transport: Transporter<SMTPPool.SentMessageInfo> | undefined;
  const open = (): Transporter<SMTPPool.SentMessageInfo> => {
    if (transport) return transport;
    transport = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections ?? SMTP_MAX_CONNECTIONS,
      // A fresh connection now and then, so one connection's state never lives forever.
      maxMessages: 500,
      idleTimeout: options.idleTimeoutMs ?? 1_000,
      connectionTimeout,
      greetingTimeout: connectionTimeout,
      socketTimeout: options.socketTimeoutMs ?? 15_000,
    });
    transport.use('stream', (mail, done) => {
      mail.message.processFunc(gathered);
      done();
    });
    return transport;
  };
  return {
    async send(message) {
      const info = await open().sendMail(message);
      if (info.rejected.length > 0) {
        throw new Error(`SMTP server refused ${info.rejected.map(String).join(', ')}: ${info.response}`);
      }
    },
    async verify() {
      await open().verify();
    },
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}

/** The whole of `input` as one chunk (a message is tens of KiB at most); errors carried over. */
function gathered(input: Readable): Readable {
  const parts: Buffer[] = [];
  const output = new PassThrough();
  input.on('data', (chunk: Buffer) => parts.push(chunk));
  input.once('end', () => output.end(Buffer.concat(parts)));
  input.once('error', (err) => output.destroy(err));
  return output;
}

/** A one-line reason for last_error, with the SMTP reply code when there is one. */
export function describeSmtpError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 1000);
  const e = err as Error & { code?: string; responseCode?: number };
  const parts = [e.code, e.responseCode === undefined ? undefined : `SMTP ${e.responseCode}`].filter(Boolean);
  const text = `${parts.length ? `${parts.join(' ')}: ` : ''}${e.message}`;
  return text.replace(/\s+/g, ' ').trim().slice(0, 1000);
}
