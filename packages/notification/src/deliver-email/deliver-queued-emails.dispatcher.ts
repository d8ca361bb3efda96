import type { NotificationContext } from '../notification.context.ts';
import { deliverEmail } from './deliver-email.ts';

export interface Dispatcher {
  start(): void;
  /** Stops polling and waits for the pass in progress (and its sends) to finish. */
  stop(): Promise<void>;
}

/**
 * Retries queued emails whose next attempt is due: every `intervalMs`, `concurrency` workers each
 * claim and deliver one email after another until nothing is due (or `maxPerPass` were handled).
 * The timer is unref'd: a forgotten dispatcher never keeps the process alive.
 */
export function createDispatcher(ctx: NotificationContext, options: { intervalMs: number; concurrency?: number; maxPerPass?: number }): Dispatcher {
  const concurrency = options.concurrency ?? 4;
  const maxPerPass = options.maxPerPass ?? 100;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  async function runPass(): Promise<void> {
    let handled = 0;
    const worker = async () => {
      while (running && handled < maxPerPass) {
        handled++;
        const row = await deliverEmail(ctx);
        if (!row) return;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = undefined;
      pass = runPass()
        .catch((err: unknown) => ctx.log.error({ err }, 'email dispatcher pass failed'))
        .finally(() => {
          pass = undefined;
          schedule();
        });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await pass;
    },
  };
}
