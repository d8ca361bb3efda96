import type { Kysely, Transaction } from 'kysely';
import { groupCommit } from '@ems/platform';
import { firstDeliveries, firstDelivery } from './idempotency.ts';
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
 * - Given `once`, the deliveries of a transaction are recorded processed (firstDeliveries) by one statement before
 *   any is handled, and `handle` is given only those seen for the first time (it records none itself); a delivery
 *   seen before is answered `once.seen`. A subscriber that called firstDelivery in `handle` spent a statement on
 *   each delivery.
 *
 * - What the caller hands along with a delivery (`work`, the returned function's second argument) reaches `handle`
 *   with it: e.g. the decision a use case makes in the transaction, for the delivery that made it. Two deliveries
 *   of one event at once are two deliveries, each with its own.
 *
 * Give the subscription a `concurrency` of about `max`, and a `batch` (the deliveries one worker fetches, and
 * hands over, at once): only deliveries in flight at once can go together, and a worker's batch goes in one.
 */
interface TogetherOptions<D, R> {
  /** The subscriber's service's database. */
  db: Kysely<D>;
  /** The most deliveries in one transaction. */
  max: number;
  /** Transactions at once: a second goes on while the first waits on a lock. Default 2. */
  atOnce?: number;
  /** The subscriber's processed-event records (its service's schema and its name), and the answer to a delivery seen before. */
  once?: { schema: string; subscriber: string; seen: R };
}

/** Each delivery handled on its own in the shared transaction (with what the caller handed along with it). */
export function handledTogether<D, R, W = void>(
  options: TogetherOptions<D, R> & {
    handle: (trx: Transaction<D>, event: CloudEvent, prepared: undefined, work: W) => Promise<R>;
    prepare?: undefined;
  },
): (event: CloudEvent, work: W) => Promise<R>;
/**
 * `prepare`: work for all the deliveries of a transaction before any is handled (those seen for the first time, when
 * `once` is given), its answer handed to each `handle`: e.g. their subjects locked and read by one statement each, not
 * one per delivery. Alone, it is given the one delivery.
 * `finish`: work after every delivery of the transaction has been handled, before it commits, given what `prepare`
 * answered: e.g. the writes each `handle` noted there, made by one statement (not run when no delivery was fresh).
 */
export function handledTogether<D, R, P, W = void>(
  options: TogetherOptions<D, R> & {
    handle: (trx: Transaction<D>, event: CloudEvent, prepared: P, work: W) => Promise<R>;
    prepare: (trx: Transaction<D>, events: readonly CloudEvent[]) => Promise<P>;
    finish?: ((trx: Transaction<D>, prepared: P) => Promise<void>) | undefined;
  },
): (event: CloudEvent, work: W) => Promise<R>;
export function handledTogether<D, R, P, W>(
  options: TogetherOptions<D, R> & {
    handle: (trx: Transaction<D>, event: CloudEvent, prepared: P, work: W) => Promise<R>;
    prepare?: ((trx: Transaction<D>, events: readonly CloudEvent[]) => Promise<P>) | undefined;
    finish?: ((trx: Transaction<D>, prepared: P) => Promise<void>) | undefined;
  },
): (event: CloudEvent, work: W) => Promise<R> {
  const { db, handle, once, finish } = options;
  // Without `prepare`, `handle` is the overload whose third argument is undefined: that is what it is given.
  const prepare = (trx: Transaction<D>, events: readonly CloudEvent[]): Promise<P> =>
    options.prepare ? options.prepare(trx, events) : Promise.resolve(undefined as P);
  const transaction = <X>(work: (trx: Transaction<D>) => Promise<X>) => db.transaction().execute(work);
  const first = async (trx: Transaction<D>, events: readonly CloudEvent[]): Promise<boolean[]> =>
    once ? firstDeliveries(trx, once.schema, once.subscriber, events.map((e) => e.id)) : events.map(() => true);
  const together = groupCommit<Delivery<W>, R>({
    max: options.max,
    atOnce: options.atOnce ?? 2,
    // A worker's batch of deliveries reaches the handler in one turn: it goes in one transaction.
    gather: true,
    together: (deliveries) =>
      transaction(async (trx) => {
        const events = deliveries.map((d) => d.event);
        const fresh = await first(trx, events);
        const prepared = await prepare(trx, events.filter((_, i) => fresh[i]));
        const handled = new Array<{ ok: true; value: R }>(events.length);
        for (const i of bySubject(events)) {
          handled[i] = { ok: true, value: fresh[i] ? await handle(trx, events[i]!, prepared, deliveries[i]!.work) : once!.seen };
        }
        if (finish && fresh.some(Boolean)) await finish(trx, prepared);
        return handled;
      }),
    alone: ({ event, work }) =>
      transaction(async (trx) => {
        if (once && !(await firstDelivery(trx, once.schema, once.subscriber, event.id))) return once.seen;
        const prepared = await prepare(trx, [event]);
        const value = await handle(trx, event, prepared, work);
        if (finish) await finish(trx, prepared);
        return value;
      }),
  });
  // A fresh object per call: two deliveries of one event at once stay two.
  return (event, work) => together({ event, work });
}

/** A delivery as the group commit queues it: the event and what its caller handed along. */
interface Delivery<W> {
  event: CloudEvent;
  work: W;
}

/** The indexes of `events` in the order of their subjects (and, for one subject, of their arrival). */
function bySubject(events: readonly CloudEvent[]): number[] {
  return events.map((_, i) => i).sort((a, b) => {
    const x = events[a]!.subject;
    const y = events[b]!.subject;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}
