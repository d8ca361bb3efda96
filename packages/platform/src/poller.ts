import type { Logger } from './logger.ts';

export interface Poller {
  start(): void;
  /** Stops polling and waits for the round in flight, so no work is left half-recorded at shutdown. */
  stop(): Promise<void>;
}

export interface PollerOptions {
  /** For the logs, e.g. 'invite relay'. */
  name: string;
  log: Logger;
  intervalMs: number;
  /** Most items one call of `work` takes on. */
  batch: number;
  /**
   * Does up to `limit` items of due work; returns how many it took on. `stopping` is aborted when stop()
   * is called: a long round may end early between items (stop() waits for the round either way).
   */
  work(limit: number, stopping: AbortSignal): Promise<number>;
}

/**
 * A background loop: every `intervalMs` it does the work that is due. A full batch is followed by
 * another round at once, so a backlog drains quickly. A failing round is logged and retried on the
 * next tick; it never stops the loop.
 */
export function createPoller(options: PollerOptions): Poller {
  let running = false;
  let stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  async function runRound(): Promise<void> {
    try {
      while (running && (await options.work(options.batch, stopping.signal)) === options.batch) {
        // keep draining
      }
    } catch (err) {
      options.log.warn({ err }, `${options.name} round failed; retrying on the next tick`);
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
      if (stopping.signal.aborted) stopping = new AbortController();
      schedule(0);
    },
    async stop() {
      running = false;
      stopping.abort();
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}
