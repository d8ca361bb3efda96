import { CompiledQuery } from 'kysely';
import type { Pool } from '@ems/platform';
import { EventSchemas, type CloudEvent } from '@ems/contracts/events';
import { validateEvent, type EventBus, type Subscription, type TransactionLike } from '@ems/eventbus';

/**
 * A test double of the EventBus port that records what is published — in the caller's transaction,
 * in a table of the test database, so a rolled-back transaction leaves no record (exactly the
 * guarantee a real adapter gives). It validates like a real bus and delivers nothing: tests call
 * a subscription's handle() themselves. The database stays real; only the bus is a stand-in.
 */
export interface RecordingBus extends EventBus {
  /** Events committed so far, oldest first, optionally of one type. */
  published(type?: string): Promise<CloudEvent[]>;
  /** When true, publish() records and then throws, so the caller's transaction must roll back. */
  failAfterRecording: boolean;
  subscriptions: Map<string, Subscription>;
}

export async function createRecordingBus(pool: Pool): Promise<RecordingBus> {
  await pool.query(`CREATE TABLE IF NOT EXISTS public.recorded_events (seq bigserial PRIMARY KEY, type text NOT NULL, event jsonb NOT NULL)`);
  const subscriptions = new Map<string, Subscription>();
  const bus: RecordingBus = {
    name: 'postgres',
    failAfterRecording: false,
    subscriptions,
    async publish(tx: TransactionLike, events: readonly CloudEvent[]) {
      for (const event of events) {
        const checked = validateEvent(event, EventSchemas);
        if (!checked.ok) throw new Error(checked.reason);
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO public.recorded_events (type, event) VALUES ($1, $2)', [event.type, JSON.stringify(event)]));
      }
      if (bus.failAfterRecording) throw new Error('bus told to fail after recording');
    },
    async subscribe(s) {
      subscriptions.set(s.name, s);
    },
    async unsubscribe(name) {
      subscriptions.delete(name);
    },
    async start() {},
    async stop() {},
    deadLetters: {
      list: async () => ({ items: [], nextOffset: null }),
      get: async () => undefined,
      replay: async () => undefined,
    },
    async published(type) {
      const rows = await pool.query<{ event: CloudEvent }>(
        `SELECT event FROM public.recorded_events ${type ? 'WHERE type = $1' : ''} ORDER BY seq`,
        type ? [type] : [],
      );
      return rows.rows.map((r) => r.event);
    },
  };
  return bus;
}
