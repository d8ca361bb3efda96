import { Worker } from 'node:worker_threads';
import type { SendMailOptions } from 'nodemailer';
import type { Mailer, SmtpMailerOptions } from './mailer.ts';

/** What the service asks of the SMTP thread. */
export type MailerRequest = { op: 'send'; id: number; message: SendMailOptions } | { op: 'verify'; id: number } | { op: 'close' };

/** The SMTP thread's answer to one request. */
export type MailerReply = { id: number; ok: true } | { id: number; ok: false; error: { message: string; code?: string; responseCode?: number } };

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The SMTP mailer on a thread of its own: the same pooled transport (createSmtpMailer), in a worker thread.
 *
 * Why: composing a message (MIME, encodings) and the SMTP exchange cost the service's one event loop about
 * 3.5 ms of CPU per case in a burst — a loop that was busy 93–100 % of the time, so every other step waited
 * for it. In a worker they run on the machine's other core. A message crosses as plain data (strings and
 * plain objects: buildMailMessage's output); an error crosses as its message, code and SMTP reply code,
 * which is all describeSmtpError reads.
 *
 * The worker starts with the mailer (loading nodemailer there takes ≈ 0.3 s, so it is ready before the first
 * email) and ends with close(), after the sends in flight; a later request starts a new one. It keeps the process alive only while a request is waiting for its answer.
 * Should the worker die, every request waiting on it fails (the email's claim records the error and the
 * dispatcher retries it), and the next request starts a new worker.
 */
export function createMailerThread(options: SmtpMailerOptions): Mailer {
  let current: { worker: Worker; pending: Map<number, Pending> } | undefined;
  let nextId = 1;

  const start = () => {
    const worker = new Worker(new URL('./mailer.worker.ts', import.meta.url), { workerData: options });
    const pending = new Map<number, Pending>();
    const self = { worker, pending };
    worker.unref();
    const failAll = (err: Error) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (current === self) current = undefined;
    };
    worker.on('message', (answer: MailerReply) => {
      const p = pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id);
      if (pending.size === 0) worker.unref();
      if (answer.ok) p.resolve();
      else p.reject(Object.assign(new Error(answer.error.message), answer.error));
    });
    worker.on('error', (err: Error) => failAll(new Error(`the SMTP thread failed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`the SMTP thread exited (code ${code})`)));
    return self;
  };

  const ask = (request: { op: 'send'; message: SendMailOptions } | { op: 'verify' }) =>
    new Promise<void>((resolve, reject) => {
      current ??= start();
      const id = nextId++;
      // Posted first: a message that cannot cross (DataCloneError) rejects here and leaves nothing waiting.
      current.worker.postMessage({ ...request, id } satisfies MailerRequest);
      current.pending.set(id, { resolve, reject });
      current.worker.ref();
    });

  current = start();
  return {
    send: (message) => ask({ op: 'send', message }),
    verify: () => ask({ op: 'verify' }),
    close() {
      current?.worker.postMessage({ op: 'close' } satisfies MailerRequest);
      current = undefined;
    },
  };
}
