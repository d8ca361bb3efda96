/**
 * Decides which of one queue's workers fetch, and when, instead of pg-boss's defaults (a NOTIFY wakes
 * every worker of the queue; every worker polls on its own timer). Measured on the benchmark at 10
 * resignations/s: a NOTIFY for one job made each of a subscriber's workers fetch, one found the job and
 * the others nothing, and ~27 workers polling every second were a third of the bus's fetches.
 *
 * What replaces them:
 * - a NOTIFY (a job committed on the queue) wakes one worker, the next idle one in turn; when all are
 *   busy, the next in turn, which fetches again as soon as its batch is done (pg-boss skips its delay).
 *   With a linger (the subscription's `linger`), the wake waits that long, and the NOTIFYs meanwhile
 *   wake no one else: the jobs committed meanwhile are fetched together, in one batch;
 * - a worker that fetched a full batch wakes another idle one, so a backlog still drains in parallel;
 * - a job this process failed (it will be retried after a backoff) wakes a worker when the retry can
 *   first be due and again when it must be due, and a dead-lettered job wakes the dead-letter queue's
 *   worker, since neither comes with a NOTIFY;
 * - polling stays the floor for what nothing here sees (retries failed in another process, handlers
 *   that timed out, notifications lost while the listener reconnected): one statement per interval
 *   for all the process's queues finds those with a job ready and wakes one worker of each (the bus's
 *   sweep); the workers' own polling is a rare last resort.
 */
export interface Wakeups {
  /** Registers a worker; `busy(true)` while its handler runs. */
  add(id: string): { busy(on: boolean): void };
  /** A job may be waiting. */
  wakeOne(): void;
  /** A NOTIFY said a job was committed: wakes one worker, after the linger (one wake for the NOTIFYs meanwhile). */
  notified(): void;
  /** Wakes one worker after `ms` (not keeping the process alive); cleared by clear(). */
  wakeAfter(ms: number): void;
  clear(): void;
}

/** `linger`: ms a NOTIFY's wake waits (0: none). */
export function createWakeups(notify: (workerId: string) => void, options: { linger?: number } = {}): Wakeups {
  const workers: Array<{ id: string; busy: boolean }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const linger = Number.isFinite(options.linger) && options.linger! > 0 ? options.linger! : 0;
  let next = 0;
  let lingering = false;

  const wakeOne = () => {
    const n = workers.length;
    if (n === 0) return;
    let pick = next % n;
    for (let i = 0; i < n; i++) {
      const at = (next + i) % n;
      if (!workers[at]!.busy) {
        pick = at;
        break;
      }
    }
    next = pick + 1;
    notify(workers[pick]!.id);
  };

  const after = (ms: number, then: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      then();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  return {
    add(id) {
      const worker = { id, busy: false };
      workers.push(worker);
      return {
        busy(on) {
          worker.busy = on;
        },
      };
    },
    wakeOne,
    notified() {
      if (linger === 0) return wakeOne();
      if (lingering) return;
      lingering = true;
      after(linger, () => {
        lingering = false;
        wakeOne();
      });
    },
    wakeAfter(ms) {
      after(ms, wakeOne);
    },
    clear() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      lingering = false;
      workers.length = 0;
    },
  };
}

/**
 * When a job failed with `retryCount` earlier failures can run again, in ms from now: pg-boss sets its
 * start_after to now + min(delayMax, delay·2^retryCount·(1 + random())) seconds when backing off
 * (plans.js, failJobsBody), so between `first` and `last`.
 */
export function retryWindow(retryCount: number, retryDelaySeconds: number, retryDelayMaxSeconds?: number): { first: number; last: number } {
  const base = Math.max(1, retryDelaySeconds) * 2 ** Math.min(16, retryCount);
  const cap = retryDelayMaxSeconds ?? Number.POSITIVE_INFINITY;
  return { first: Math.min(cap, base) * 1000, last: Math.min(cap, 2 * base) * 1000 };
}
