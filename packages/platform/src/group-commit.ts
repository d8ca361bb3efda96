/**
 * A group commit: requests that arrive while `atOnce` batches are being written wait, and go together in
 * the next batch (up to `max`), each answered as its own. When nothing else is being written, a request
 * goes at once, alone — so at a low rate it waits for nothing, and in a burst a batch costs what one
 * request did (its statements carry a row per request) instead of each request queueing for its turn.
 *
 * `together` writes a batch (one transaction) and says what each request came to: its value, or the
 * error to answer it with (a refusal decided inside the batch). If `together` throws, the transaction
 * took nobody's effect with it, and each request of the batch is tried `alone`: one request the database
 * refuses fails only itself.
 */
export interface GroupCommitOptions<A, R> {
  together: (batch: readonly A[]) => Promise<ReadonlyArray<{ ok: true; value: R } | { ok: false; error: unknown }>>;
  alone: (item: A) => Promise<R>;
  /** The most requests in one batch. */
  max: number;
  /** Batches being written at once: a second goes on while the first waits (on a lock, say). */
  atOnce: number;
  /**
   * Requests made in the same turn of the event loop go together, the first one too (it waits for the
   * end of the turn, a microtask, not a timer). For callers handed several requests at once (a bus worker
   * given a batch of deliveries). Default false: the first request of a quiet moment goes at once, alone.
   */
  gather?: boolean;
}

export function groupCommit<A, R>(options: GroupCommitOptions<A, R>): (item: A) => Promise<R> {
  const { together, alone, max, atOnce } = options;
  const waiting: Array<{ item: A; resolve: (value: R) => void; reject: (err: unknown) => void }> = [];
  let running = 0;

  const write = async (batch: typeof waiting): Promise<void> => {
    let results: Awaited<ReturnType<typeof together>>;
    try {
      results = await together(batch.map((b) => b.item));
      if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for a batch of ${batch.length}`);
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      await Promise.all(batch.map(({ item, resolve, reject }) => alone(item).then(resolve, reject)));
      return;
    }
    results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.error)));
  };

  const drain = async (): Promise<void> => {
    running++;
    try {
      while (waiting.length > 0) await write(waiting.splice(0, max));
    } finally {
      running--;
    }
  };

  /** A drain is asked for at the end of this turn (gather). */
  let gathering = false;
  const start = () => {
    gathering = false;
    // write() settles every request it takes and never throws, so drain() cannot reject. Each drain takes its
    // first batch before it awaits anything: a gathered turn fills up to atOnce batches at once.
    while (running < atOnce && waiting.length > 0) void drain();
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!options.gather) start();
      else if (!gathering) {
        gathering = true;
        queueMicrotask(start);
      }
    });
}
