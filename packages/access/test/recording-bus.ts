import { CompiledQuery } from 'kysely';
import type { Pool } from '@ems/platform';
import { EventSchemas } from '@ems/contracts/events';
import { validateEvent, type CloudEvent, type DeadLetterStore, type EventBus, type Subscription, type TransactionLike } from '@ems/eventbus';

/**
 * A test double of the EventBus port — for the bus only; the database stays real. publish() validates
 * each event against the catalogue (as every adapter must) and records it in a table THROUGH THE
 * CALLER'S TRANSACTION, so an event is "published" iff that transaction commits, exactly the port's
 * promise. Nothing is delivered: tests call a subscription's handle() themselves.
 */
export interface RecordingBus extends EventBus {
  /** Committed events, in publish order, optionally of one type. */
  published(type?: string): Promise<CloudEvent[]>;
  /** The next publish of `type` records its events, then throws: the caller's transaction must roll back. */
  failAfterNextPublish(type: string): void;
}

export async function createRecordingBus(pool: Pool): Promise<RecordingBus> {
  await pool.query('CREATE TABLE IF NOT EXISTS public.recorded_events (seq bigserial PRIMARY KEY, type text NOT NULL, event jsonb NOT NULL)');
  const failAfter = new Set<string>();
  const subscriptions = new Map<string, Subscription>();
  const deadLetters: DeadLetterStore = {
    list: async () => ({ items: [], nextOffset: null }),
    get: async () => undefined,
    replay: async () => undefined,
  };
  return {
    name: 'postgres',
    async publish(tx: TransactionLike, events: readonly CloudEvent[]) {
      for (const event of events) {
        const checked = validateEvent(event, EventSchemas);
        if (!checked.ok) throw new Error(`refusing to publish: ${checked.reason}`);
      }
      for (const event of events) {
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO public.recorded_events (type, event) VALUES ($1, $2::jsonb)', [event.type, JSON.stringify(event)]));
      }
      const failing = events.find((e) => failAfter.has(e.type));
      if (failing) {
        failAfter.delete(failing.type);
        throw new Error(`forced failure after publishing ${failing.type}`);
      }
    },
    async subscribe(s) {
      subscriptions.set(s.name, s);
    },
    async unsubscribe(name) {
      subscriptions.delete(name);
    },
    async start() {},
    async stop() {},
    deadLetters,
    async published(type) {
      const { rows } = await pool.query<{ event: CloudEvent }>(
        type === undefined ? 'SELECT event FROM public.recorded_events ORDER BY seq' : 'SELECT event FROM public.recorded_events WHERE type = $1 ORDER BY seq',
        type === undefined ? [] : [type],
      );
      return rows.map((r) => r.event);
    },
    failAfterNextPublish(type) {
      failAfter.add(type);
    },
  };
}
