import { CompiledQuery } from 'kysely';
import { validateEvent, type CloudEvent, type EventBus, type EventCatalogue, type Subscription, type TransactionLike } from '@ems/eventbus';
import type { Pool } from '@ems/platform';

/**
 * A test double for the bus only (the database stays real): publish() validates each event against
 * the catalogue, as every adapter must, and writes it to `test_bus.published` IN THE CALLER'S
 * TRANSACTION — so a rolled-back handler leaves no published event, exactly as with the real outbox.
 */
export interface RecordingBus extends EventBus {
  /** Makes the next publish() throw, as a database error inside the transaction would. */
  failNextPublish(): void;
  published(): Promise<CloudEvent[]>;
}

export async function createRecordingBus(pool: Pool, catalogue: EventCatalogue): Promise<RecordingBus> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS test_bus;
    CREATE TABLE IF NOT EXISTS test_bus.published (seq bigserial PRIMARY KEY, event jsonb NOT NULL)`);
  const subscriptions = new Map<string, Subscription>();
  let failNext = false;
  return {
    name: 'postgres',
    async publish(tx: TransactionLike, events: readonly CloudEvent[]) {
      for (const event of events) {
        const v = validateEvent(event, catalogue);
        if (!v.ok) throw new Error(v.reason);
      }
      if (failNext) {
        failNext = false;
        throw new Error('publish failed (test)');
      }
      for (const event of events) {
        await tx.executeQuery(CompiledQuery.raw('INSERT INTO test_bus.published (event) VALUES ($1::jsonb)', [JSON.stringify(event)]));
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
    deadLetters: {
      list: async () => ({ items: [], nextOffset: null }),
      get: async () => undefined,
      replay: async () => undefined,
    },
    failNextPublish() {
      failNext = true;
    },
    async published() {
      const r = await pool.query<{ event: CloudEvent }>('SELECT event FROM test_bus.published ORDER BY seq');
      return r.rows.map((row) => row.event);
    },
  };
}
