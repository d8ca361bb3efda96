import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { JetStreamApiCodes } from '@nats-io/jetstream';
import { backoffDelay, type Logger } from '@ems/platform';
import { isApiError } from './topology.ts';

/*
 * One durable pull consumer, worked by this process: it asks JetStream for as many messages as it has
 * free handler slots (never more, so a busy replica leaves the rest to its peers and no message waits
 * in a local buffer while its ack_wait runs out), hands each to `handle` at once, and asks again when a
 * slot frees up. An idle pull expires after `expiresMs` and is renewed; errors (server restart, consumer
 * deleted) end the pull, and the loop retries with backoff — after `recover` when the consumer is gone.
 */

export interface PullWorkerOptions {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  concurrency: number;
  expiresMs: number;
  log: Logger;
  /** Handles one message: acks, naks or terms it itself; must not throw. */
  handle(msg: JsMsg): Promise<void>;
  /** Re-creates the consumer (it was deleted, or the server lost it), delivering what was stored since `missingSince`. */
  recover(missingSince: Date): Promise<void>;
}

export interface PullWorker {
  /** Stops asking for messages and waits for those in hand (up to timeoutMs). */
  stop(timeoutMs: number): Promise<void>;
}

const MAX_BACKOFF_MS = 5_000;

export function startPullWorker(o: PullWorkerOptions): PullWorker {
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let signalStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (signalStop = resolve));
  let batch: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const dispatch = (msg: JsMsg) => {
    const p: Promise<void> = o
      .handle(msg)
      .catch((err: unknown) => o.log.error({ err, stream: o.stream, consumer: o.consumer }, 'event bus: message handling failed unexpectedly'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const loop = async () => {
    let consumer: Consumer | undefined;
    let failures = 0;
    // When the consumer was last seen working (a second early: the server's clock may differ a little).
    let seen = Date.now() - 1000;
    while (!stopping) {
      try {
        if (inFlight.size >= o.concurrency) {
          await Promise.race([...inFlight, stopped]);
          continue;
        }
        consumer ??= await o.js.consumers.get(o.stream, o.consumer);
        const asked = Date.now() - 1000;
        batch = await consumer.fetch({ max_messages: o.concurrency - inFlight.size, expires: o.expiresMs });
        if (stopping) batch.stop();
        for await (const msg of batch) dispatch(msg);
        batch = undefined;
        failures = 0;
        seen = asked;
      } catch (err) {
        batch = undefined;
        if (stopping) break;
        failures++;
        const missing = isApiError(err, JetStreamApiCodes.ConsumerNotFound) || isApiError(err, JetStreamApiCodes.StreamNotFound) || /consumer (deleted|not found)|stream not found/i.test(String(err));
        o.log[failures > 3 ? 'error' : 'warn']({ err, stream: o.stream, consumer: o.consumer, failures }, missing ? 'event bus: NATS consumer missing; re-creating it' : 'event bus: pulling from NATS failed; retrying');
        // Whatever the error, the next round looks the consumer up again instead of pulling from the
        // cached one. JetStream tells only the pulls pending at that moment that a consumer (or its
        // stream) was deleted (409 "consumer deleted"); a pull sent after that, to a name nobody serves
        // any more, gets no answer at all, and fetch() ends in "heartbeats missed" (measured on
        // nats-server 2.9 with @nats-io/jetstream 3.4: also once the stream exists again without the
        // consumer). Pulling again from the cached Consumer would fail the same way forever; the lookup
        // answers "consumer/stream not found", which recovers below on the next round.
        consumer = undefined;
        if (missing) {
          await o.recover(new Date(seen)).catch((e: unknown) => o.log.warn({ err: e, consumer: o.consumer }, 'event bus: could not re-create a NATS consumer'));
        }
        await pause(backoffDelay(failures + 1, { baseMs: 100, maxMs: MAX_BACKOFF_MS }));
      }
    }
  };
  const running = loop();

  return {
    async stop(timeoutMs) {
      stopping = true;
      signalStop();
      // A pull ended early can leave a message on its way to us: JetStream delivers it again after ack_wait.
      batch?.stop();
      wake?.();
      await running;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([Promise.all(inFlight).then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        o.log.warn({ consumer: o.consumer, inFlight: inFlight.size }, 'event bus: stop timed out with handlers still running; their messages are delivered again after ack_wait');
      }
    },
  };
}
