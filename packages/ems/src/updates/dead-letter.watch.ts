import type { Logger } from '@ems/platform';
import type { DeadLetterStore } from '@ems/eventbus';
import type { UpdatesHub } from './updates-hub.ts';

/**
 * Dead letters, as they appear, for the operators' streams. Whichever adapter keeps them (a pg-boss queue, a
 * NATS stream), they are read through the bus's port: looked at every `everyMs` while an operator's stream is
 * open, and only then. What died before the first of those streams opened is not news.
 */
export function watchDeadLetters(store: DeadLetterStore, hub: UpdatesHub, log: Logger, everyMs = 5_000): { stop(): Promise<void> } {
  let seen = new Set<string>();
  let running: Promise<void> = Promise.resolve();
  const look = async () => {
    const since = hub.deadLettersWantedSince();
    if (!since) {
      seen = new Set();
      return;
    }
    const { items } = await store.list({ limit: 100, offset: 0 });
    // Oldest first, so a stream reads them in the order they died.
    for (const d of [...items].reverse()) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      if (Date.parse(d.deadAt) >= since.getTime()) hub.deadLettered({ id: d.id, subscriber: d.subscriber, eventType: d.eventType, reason: d.reason, deadAt: d.deadAt });
    }
  };
  const timer = setInterval(() => {
    running = running.then(look).catch((err: unknown) => log.warn({ err }, 'live updates: could not read the dead letters; will try again'));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
