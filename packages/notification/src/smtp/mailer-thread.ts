import { Worker } from 'node:worker_threads';
import type { SendMailOptions } from 'nodemailer';
import type { Mailer, SmtpMailerOptions } from './mailer.ts';

/** A send or a health check: what a caller of the mailer asks, answered by one MailerReply. */
type Question = { op: 'send'; message: SendMailOptions } | { op: 'verify' };

/** What the service's thread asks of the SMTP thread: a question under the id its reply carries, or to close. */
export type MailerRequest = (Question & { id: number }) | { op: 'close' };

/** What a failed send carries back: what describeSmtpError reads (an Error's own fields do not cross threads). */
export interface MailerFailure {
  message: string;
  code?: string;
  responseCode?: number;
}

/** The SMTP thread's answer to one send or verify. */
export type MailerReply = { id: number; ok: true } | { id: number; ok: false; error: MailerFailure };

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The SMTP mailer (createSmtpMailer, its pool and its safety rules unchanged) in a worker thread of its own.
 *
 * Why: in a burst the service's thread is the bottleneck (its event loop busy 98 % of a 2,000-case burst while
 * the machine had most of a core free), and composing and writing MIME messages was the largest part of its
 * work that needs nothing of the rest: nodemailer alone took 14 % of its samples. Here the service's thread
 * hands over a plain message (buildMailMessage's output, cloned) and gets back "accepted" or the error.
 *
 * The thread starts with the first send or verify. `close()` lets the sends in flight finish, then the thread
 * closes its pool and ends; a later send starts a new one. While nothing is asked of it, the thread does not
 * keep the process alive (as idle pooled connections never did). Should the thread die, every send it held
 * fails with that reason — the email's claim records it and the dispatcher retries it, with its Message-ID,
 * as after a dropped connection.
 */
export function createSmtpMailerOffThread(options: SmtpMailerOptions): Mailer {
  let thread: Thread | undefined;
  const current = (): Thread => {
    if (thread) return thread;
    const started: Thread = startThread(options, () => {
      if (thread === started) thread = undefined;
    });
    return (thread = started);
  };
  return {
    send: (message) => current().ask({ op: 'send', message }),
    verify: () => current().ask({ op: 'verify' }),
    close() {
      thread?.close();
      thread = undefined;
    },
  };
}

interface Thread {
  ask(question: Question): Promise<void>;
  close(): void;
}

function startThread(options: SmtpMailerOptions, ended: () => void): Thread {
  const worker = new Worker(new URL('./mailer.worker.ts', import.meta.url), { workerData: options });
  worker.unref();
  const waiting = new Map<number, Waiter>();
  let nextId = 1;
  let gone = false;

  const settled = (id: number): Waiter | undefined => {
    const w = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
    return w;
  };
  worker.on('message', (reply: MailerReply) => {
    const w = settled(reply.id);
    if (reply.ok) w?.resolve();
    else w?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code, responseCode: reply.error.responseCode }));
  });
  const fail = (err: Error) => {
    if (gone) return;
    gone = true;
    ended();
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('error', (err: Error) => fail(new Error(`the SMTP thread failed: ${err.message}`)));
  worker.on('exit', (code) => fail(new Error(`the SMTP thread stopped (exit code ${code})`)));

  return {
    ask(question) {
      if (gone) return Promise.reject(new Error('the SMTP thread has stopped'));
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        worker.postMessage({ ...question, id } satisfies MailerRequest);
      });
    },
    close() {
      if (!gone) worker.postMessage({ op: 'close' } satisfies MailerRequest);
    },
  };
}
