import type { Kysely, Transaction } from 'kysely';
import { groupCommit } from '@ems/platform';
import type { CloudEvent } from './port.ts';

/**
 * A subscriber's handler that records the deliveries arriving while it writes in one transaction, each as if
 * alone (platform's groupCommit; the transaction's own statements, BEGIN and COMMIT, shared). In a burst a
 * subscriber whose handler is a short transaction per event (a dedupe record, a read, a write) spent a
 * commit on each.
 *
 * - Within a transaction, deliveries go in the order of their subjects (the case or person each is about),
 *   so two of the subscriber's transactions never lock two subjects the other way round.
 * - If the shared transaction fails, each of its deliveries is handled alone in a transaction of its own: one
 *   the database refuses fails (and is retried, dead-lettered) alone, and the others are handled.
 * - `handle` must do all its work in `trx` (its effect, firstDelivery, publishes): the transaction commits
 *   once every delivery of it has been handled.
 *
 * Give the subscription a `concurrency` of about `max`, and a `batch` (the deliveries one worker fetches, and
 * hands over, at once): only deliveries in flight at once can go together, and a worker's batch goes in one.
 */
export function handledTogether<D, R>(options: {
  /** The subscriber's service's database. */
  db: Kysely<D>;
  handle: (trx: Transaction<D>, event: CloudEvent) => Promise<R>;
  /** The most deliveries in one transaction. */
  max: number;
  /** Transactions at once: a second goes on while the first waits on a lock. Default 2. */
  atOnce?: number;
}): (event: CloudEvent) => Promise<R> {
  const { db, handle } = options;
  const transaction = <X>(work: (trx: Transaction<D>) => Promise<X>) => db.transaction().execute(work);
  return groupCommit<CloudEvent, R>({
    max: options.max,
    atOnce: options.atOnce ?? 2,
    // A worker's batch of deliveries reaches the handler in one turn: it goes in one transaction.
    gather: true,
    together: (events) =>
      transaction(async (trx) => {
        const handled = new Array<{ ok: true; value: R }>(events.length);
        for (const i of bySubject(events)) handled[i] = { ok: true, value: await handle(trx, events[i]!) };
        return handled;
      }),
    alone: (event) => transaction((trx) => handle(trx, event)),
  });
}

/** The indexes of `events` in the order of their subjects (and, for one subject, of their arrival). */
function bySubject(events: readonly CloudEvent[]): number[] {
  return events.map((_, i) => i).sort((a, b) => {
    const x = events[a]!.subject;
    const y = events[b]!.subject;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}
