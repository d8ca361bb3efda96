import { createPoller, type Logger, type Poller } from '@ems/platform';
import type { DeadLetterStore } from '@ems/eventbus';
import type { UpdatesHub } from './updates-hub.ts';

/**
 * Dead letters, as they appear, for the operators' streams. Whichever adapter keeps them (a pg-boss queue, a
 * NATS stream), they are read through the bus's port: looked at every `everyMs` while an operator's stream is
 * open, and only then. What died before the first of those streams opened is not news.
 *
 * The loop is platform's poller (started here): one look per round, a failed look logged and tried again on
 * the next tick, stop() waiting for the look in flight, drained() a barrier for tests.
 */
export function watchDeadLetters(store: DeadLetterStore, hub: UpdatesHub, log: Logger, everyMs = 5_000): Pick<Poller, 'stop' | 'drained' | 'rounds'> {
  let seen = new Set<string>();
  const look = async (): Promise<number> => {
    const since = hub.deadLettersWantedSince();
    if (!since) {
      seen = new Set();
      return 0;
    }
    const { items } = await store.list({ limit: 100, offset: 0 });
    // Oldest first, so a stream reads them in the order they died.
    for (const d of [...items].reverse()) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      if (Date.parse(d.deadAt) >= since.getTime()) hub.deadLettered({ id: d.id, subscriber: d.subscriber, eventType: d.eventType, reason: d.reason, deadAt: d.deadAt });
    }
    // Never a full batch: one look per round, the next at the next tick.
    return 0;
  };
  const poller = createPoller({ name: 'live updates: dead-letter watch', log, intervalMs: everyMs, batch: 1, work: look });
  poller.start();
  return poller;
}
