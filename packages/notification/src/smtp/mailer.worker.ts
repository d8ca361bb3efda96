/**
 * The SMTP thread (mailer-thread.ts starts it): the pooled SMTP mailer, sending what the service's thread hands
 * over and answering each request with "accepted" or the error. On `close` it lets its sends in flight finish,
 * closes the pool and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSmtpMailer, type SmtpMailerOptions } from './mailer.ts';
import type { MailerFailure, MailerReply, MailerRequest } from './mailer-thread.ts';

const port = parentPort;
if (!port) throw new Error('mailer.worker.ts runs as a worker thread (see mailer-thread.ts)');
const mailer = createSmtpMailer(workerData as SmtpMailerOptions);
let inFlight = 0;
let closing = false;

const end = () => {
  mailer.close();
  port.close();
};

port.on('message', (request: MailerRequest) => {
  if (request.op === 'close') {
    closing = true;
    if (inFlight === 0) end();
    return;
  }
  inFlight++;
  const work = request.op === 'send' ? mailer.send(request.message) : mailer.verify();
  void work
    .then(
      () => port.postMessage({ id: request.id, ok: true } satisfies MailerReply),
      (err: unknown) => port.postMessage({ id: request.id, ok: false, error: failureOf(err) } satisfies MailerReply),
    )
    .finally(() => {
      inFlight--;
      if (closing && inFlight === 0) end();
    });
});

function failureOf(err: unknown): MailerFailure {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; responseCode?: unknown };
  return {
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
  };
}
