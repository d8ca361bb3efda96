import { CompiledQuery } from 'kysely';
import type { TransactionLike } from './port.ts';
import { quoteIdent, type Migration } from '@ems/platform';

/**
 * The consumer side of exactly-once effects: each service keeps, in its own schema, the ids of the
 * events each of its subscribers has processed. A handler calls firstDelivery() in the same
 * transaction as its effect; a redelivered event then finds its id and changes nothing.
 */
export function processedEventsMigration(version: number): Migration {
  return {
    version,
    name: 'processed events (idempotent consumers)',
    sql: `CREATE TABLE processed_events (
            subscriber text NOT NULL,
            event_id text NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (subscriber, event_id)
          );`,
  };
}

/** True the first time (subscriber, eventId) is seen in `schema`; false on a redelivery. */
export async function firstDelivery(tx: TransactionLike, schema: string, subscriber: string, eventId: string): Promise<boolean> {
  const result = await tx.executeQuery<{ event_id: string }>(
    CompiledQuery.raw(
      `INSERT INTO ${quoteIdent(schema)}.processed_events (subscriber, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
      [subscriber, eventId],
    ),
  );
  return result.rows.length === 1;
}

/**
 * firstDelivery for several events in one statement (a handler writing deliveries together): for each id,
 * in order, true the first time (subscriber, id) is seen — an id named twice in `eventIds` is first once.
 */
export async function firstDeliveries(tx: TransactionLike, schema: string, subscriber: string, eventIds: readonly string[]): Promise<boolean[]> {
  if (eventIds.length === 0) return [];
  const result = await tx.executeQuery<{ event_id: string }>(
    CompiledQuery.raw(
      `INSERT INTO ${quoteIdent(schema)}.processed_events (subscriber, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id`,
      [subscriber, [...eventIds]],
    ),
  );
  const fresh = new Set(result.rows.map((r) => r.event_id));
  return eventIds.map((id) => fresh.delete(id));
}
