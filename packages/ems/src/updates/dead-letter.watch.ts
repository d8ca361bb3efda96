import type { Logger } from '@ems/platform';
import type { DeadLetterStore } from '@ems/eventbus';
import type { UpdatesHub } from './updates-hub.ts';

/**
 * Dead letters, as they appear, for the operators' streams. Whichever adapter keeps them (a pg-boss queue, a
 * NATS stream), they are read through the bus's port: looked at every `everyMs` while an operator's stream is
 * open, and only then. What was there when the watch began is not news.
 */
export function watchDeadLetters(store: DeadLetterStore, hub: UpdatesHub, log: Logger, everyMs = 5_000): { stop(): Promise<void> } {
  let seen: Set<string> | undefined;
  let running: Promise<void> = Promise.resolve();
  const look = async () => {
    if (!hub.wantsDeadLetters()) {
      seen = undefined;
      return;
    }
    const { items } = await store.list({ limit: 100, offset: 0 });
    const first = seen === undefined;
    const known = seen ?? new Set<string>();
    // Oldest first, so a stream reads them in the order they died.
    for (const d of [...items].reverse()) {
      if (known.has(d.id)) continue;
      known.add(d.id);
      if (!first) hub.deadLettered({ id: d.id, subscriber: d.subscriber, eventType: d.eventType, reason: d.reason, deadAt: d.deadAt });
    }
    seen = known;
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
