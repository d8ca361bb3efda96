import type { Logger } from '@ems/platform';
import type { InviteDelivery } from './deliver-invites.ts';

export interface InviteRelay {
  start(): void;
  /** Stops polling and waits for the round in flight, so no email is half-recorded at shutdown. */
  stop(): Promise<void>;
}

const BATCH = 20;

/**
 * Background relay: every `intervalMs` it delivers the invites that are due (first attempts whose
 * request did not deliver them, and retries after a failure). A full batch is followed by another
 * round at once, so a backlog drains quickly after Notification comes back.
 */
export function createInviteRelay(delivery: InviteDelivery, options: { log: Logger; intervalMs: number }): InviteRelay {
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  async function runRound(): Promise<void> {
    try {
      while (running && (await delivery.deliverDue(BATCH)) === BATCH) {
        // keep draining
      }
    } catch (err) {
      options.log.warn({ err }, 'invite relay round failed; retrying on the next tick');
    }
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      round = runRound().finally(() => {
        round = undefined;
        if (running) schedule(options.intervalMs);
      });
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}
