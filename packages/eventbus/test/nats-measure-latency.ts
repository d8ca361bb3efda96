/**
 * Delivery latency, NATS JetStream adapter vs PostgreSQL adapter, in one run on the same machine:
 * publish-commit → handler start, at a steady rate, one adapter after the other.
 *
 *   EMS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres [EMS_NATS_URL=…] \
 *     node packages/eventbus/test/nats-measure-latency.ts [events=500] [perSecond=50] [subscribers=3]
 *
 * Runs on a throwaway database and a throwaway stream prefix. Each event is published in its own
 * transaction; the clock starts when COMMIT returns and stops when the handler is entered.
 */
import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import { z } from 'zod';
import { createLogger, createPool, type Pool } from '@ems/platform';
import { createTestDatabase, sleep, waitFor } from '@ems/platform/testing';
import { createEvent, createNatsEventBus, createPostgresEventBus, type EventBus } from '../src/index.ts';
import { natsTestUrl, removeNatsStreams, testNatsPrefix } from '../src/testing.ts';

const [events = 500, perSecond = 50, subscribers = 3] = process.argv.slice(2).map(Number);
const server = process.env.EMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const type = 'com.ems.latency.tick.v1';
const catalogue = { [type]: z.object({ n: z.number() }) };
const log = createLogger({ level: 'warn' });

async function measure(label: string, pool: Pool, bus: EventBus): Promise<string> {
  const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
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
  try {
    await sleep(500);
    const every = 1000 / perSecond;
    const start = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < events; i++) {
      const wait = start + i * every - performance.now();
      if (wait > 0) await sleep(wait);
      const e = createEvent({ type, source: '/latency', subject: randomUUID(), correlationId: randomUUID(), data: { n: i } });
      inFlight.push(db.transaction().execute((trx) => bus.publish(trx, [e])).then(() => void committedAt.set(e.id, performance.now())));
    }
    await Promise.all(inFlight);
    await waitFor(() => (latencies.length >= events * subscribers ? true : undefined), 'all deliveries', 120_000);
  } finally {
    await bus.stop();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  return `${label.padEnd(10)} ${events} events × ${subscribers} subscribers at ${perSecond}/s: publish-commit → handler start (ms): median ${q(0.5)}, p95 ${q(0.95)}, p99 ${q(0.99)}, max ${q(1)}`;
}

const testDb = await createTestDatabase(server, 'latency');
const pool = createPool(testDb.url, { max: 20 });
const prefix = testNatsPrefix('latency');
const lines: string[] = [];
try {
  lines.push(await measure('nats', pool, createNatsEventBus({ servers: natsTestUrl(), prefix, pool, log, catalogue })));
  lines.push(await measure('postgres', pool, createPostgresEventBus({ pool, log, catalogue })));
} finally {
  await removeNatsStreams(natsTestUrl(), prefix).catch(() => undefined);
  await pool.end();
  await testDb.drop();
}
console.log(lines.join('\n'));
