/**
 * The SMTP pool's thread (see mailer-thread.ts): composes each message and speaks SMTP with nodemailer's
 * pooled transport, off the service's event loop. Answers every request by its id; on `close`, closes the
 * pool once the sends in flight have finished, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSmtpMailer, type SmtpMailerOptions } from './mailer.ts';
import type { MailerReply, MailerRequest } from './mailer-thread.ts';

const port = parentPort;
if (!port) throw new Error('mailer.worker.ts runs as a worker thread');
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
  work.then(
    () => reply({ id: request.id, ok: true }),
    (err: unknown) => reply({ id: request.id, ok: false, error: plainError(err) }),
  );
});

function reply(answer: MailerReply): void {
  port.postMessage(answer);
  inFlight--;
  if (closing && inFlight === 0) end();
}

/** What describeSmtpError reads of an error, in a form that crosses threads. */
function plainError(err: unknown): Extract<MailerReply, { ok: false }>['error'] {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; responseCode?: unknown };
  return {
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
  };
}
