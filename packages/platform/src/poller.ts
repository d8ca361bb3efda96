import type { Logger } from './logger.ts';

export interface Poller {
  start(): void;
  /** Stops polling and waits for the round in flight, so no work is left half-recorded at shutdown. */
  stop(): Promise<void>;
  /**
   * A barrier for tests and shutdown paths: starts a round now (if none is running) and resolves once a
   * round that began after this call has ended with less than a full batch, i.e. all the work due at the
   * time of the call has been taken on. A failing round does not count: it waits for the next one.
   * Rejects when the poller is not running or is stopped before that.
   */
  drained(): Promise<void>;
  /** How many rounds have ended (failed ones included): a marker to wait on. */
  readonly rounds: number;
  /**
   * Runs a round now instead of at the next tick — or, when one is in flight, another right after it
   * (it may have looked before the news): for work that is told when something became due, e.g. a
   * commit that wrote some. Does nothing when the poller is not running.
   */
  wake(): void;
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
  let rounds = 0;
  /** The last round threw: the next waits for the tick, whoever waits or wakes (no tight loop while the database is down). */
  let lastFailed = false;
  /** wake() was called while a round ran: run the next at once. */
  let woken = false;
  /** Waiting for a round that begins after they asked (see drained()). */
  let waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];

  async function runRound(): Promise<void> {
    const mine = waiting;
    waiting = [];
    let drained = false;
    lastFailed = false;
    try {
      while (running && (await options.work(options.batch, stopping.signal)) === options.batch) {
        // keep draining
      }
      drained = running;
    } catch (err) {
      lastFailed = true;
      options.log.warn({ err }, `${options.name} round failed; retrying on the next tick`);
    } finally {
      rounds++;
    }
    if (drained) for (const w of mine) w.resolve();
    else waiting.unshift(...mine);
  }

  function rejectWaiting(): void {
    const stopped = waiting;
    waiting = [];
    for (const w of stopped) w.reject(new Error(`${options.name} stopped before its work was drained`));
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      woken = false;
      round = runRound().finally(() => {
        round = undefined;
        // Someone waits for a round that begins after they asked, or woke it meanwhile: run it now, not at the next tick.
        if (running) schedule(!lastFailed && (waiting.length > 0 || woken) ? 0 : options.intervalMs);
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
      rejectWaiting();
    },
    drained() {
      if (!running) return Promise.reject(new Error(`${options.name} is not running`));
      const barrier = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
      // Between rounds: run the next one now instead of at the next tick.
      if (round === undefined) {
        if (timer) clearTimeout(timer);
        schedule(0);
      }
      return barrier;
    },
    get rounds() {
      return rounds;
    },
    wake() {
      if (!running) return;
      if (round !== undefined) {
        woken = true;
        return;
      }
      if (timer) clearTimeout(timer);
      schedule(0);
    },
  };
}
