/**
 * Delivery latency of the PostgreSQL bus: publish-commit → handler start, at a steady rate.
 *
 *   EMS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node packages/eventbus/test/measure-latency.ts [events=500] [perSecond=50] [subscribers=3]
 *
 * Runs on a throwaway database. Each event is published in its own transaction; the clock starts
 * when COMMIT returns and stops when the handler is entered (same process, same clock).
 */
import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { createLogger, createPool } from '@ems/platform';
import { createTestDatabase, sleep, waitFor } from '@ems/platform/testing';
import { createEvent, createPostgresEventBus } from '../src/index.ts';

const [events = 500, perSecond = 50, subscribers = 3] = process.argv.slice(2).map(Number);
const server = process.env.EMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const type = 'com.ems.latency.tick.v1';

const testDb = await createTestDatabase(server, 'latency');
const pool = createPool(testDb.url, { max: 20 });
const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
const bus = createPostgresEventBus({ pool, log: createLogger({ level: 'warn' }), catalogue: { [type]: z.object({ n: z.number() }) } });
const committedAt = new Map<string, number>();
const latencies: number[] = [];
try {
  for (let s = 0; s < subscribers; s++) {
    await bus.subscribe({
      name: `latency.subscriber-${s}`,
      types: [type],
      async handle(event) {
        const t0 = committedAt.get(event.id);
        // A handler can start before COMMIT returns to the publisher: count that as 0.
        latencies.push(t0 === undefined ? 0 : performance.now() - t0);
      },
    });
  }
  await bus.start();
  await sleep(500);
  const every = 1000 / perSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < events; i++) {
    const due = start + i * every;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const e = createEvent({ type, source: '/latency', subject: randomUUID(), correlationId: randomUUID(), data: { n: i } });
    inFlight.push(db.transaction().execute((trx) => bus.publish(trx, [e])).then(() => void committedAt.set(e.id, performance.now())));
  }
  await Promise.all(inFlight);
  await waitFor(() => (latencies.length >= events * subscribers ? true : undefined), 'all deliveries', 60_000);
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  console.log(`${events} events × ${subscribers} subscribers at ${perSecond}/s: publish-commit → handler start (ms): median ${q(0.5)}, p95 ${q(0.95)}, p99 ${q(0.99)}, max ${q(1)}`);
} finally {
  await bus.stop();
  await db.destroy();
  await testDb.drop();
}
