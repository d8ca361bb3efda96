import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, createPool, migrate, type Pool } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import { createOutbox, createRelay, outboxMigrations, type OutboxMessage } from '../src/nats/outbox.ts';

/*
 * The NATS adapter's relay on real PostgreSQL, with JetStream's publish replaced by a function that
 * records what it was given and decides when (and whether) each acknowledgement comes: what is under test
 * is how the relay batches, orders and marks rows. The adapter's tests (nats-bus.test.ts) run the same
 * relay against a real JetStream.
 */
describe('NATS outbox relay', () => {
  const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
  const schema = 'relay_test';
  let testDb: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'relay');
    pool = createPool(testDb.url, { max: 5 });
    await migrate(pool, schema, outboxMigrations);
  });
  afterAll(async () => {
    await pool?.end();
    await testDb?.drop();
  });

  /** Appends `n` rows under a fresh prefix, in one transaction; their msg ids in the outbox's order. */
  const append = async (prefix: string, n: number) => {
    const messages: OutboxMessage[] = Array.from({ length: n }, (_, i) => ({ subject: `${prefix}.events.t`, msgId: randomUUID(), payload: JSON.stringify({ i }) }));
    const outbox = createOutbox(schema, prefix);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const m of messages) await outbox.appendWithClient(client, m);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    return messages.map((m) => m.msgId);
  };
  const unsent = async (prefix: string) =>
    (await pool.query<{ msg_id: string }>(`SELECT msg_id FROM ${schema}.nats_outbox WHERE prefix = $1 AND sent_at IS NULL ORDER BY seq`, [prefix])).rows.map((r) => r.msg_id);
  const relayOf = (prefix: string, send: (m: OutboxMessage) => Promise<void>) => createRelay({ pool, schema, prefix, log, send, pollMs: 200, batchSize: 100 });

  it('when a batch of rows waits, then the relay puts every one of them on its way, in the outbox order, before it awaits any acknowledgement', async () => {
    const prefix = `p${randomUUID().slice(0, 8)}`;
    const ids = await append(prefix, 20);
    const issued: string[] = [];
    const acks: Array<{ resolve(): void; reject(e: Error): void }> = [];
    const relay = relayOf(prefix, (m) => {
      issued.push(m.msgId);
      return new Promise<void>((resolve, reject) => {
        acks.push({ resolve, reject });
        // JetStream acknowledges only once the whole batch is out: a relay awaiting each ack in turn
        // would wait here for the first one, and gets a failure instead.
        if (acks.length === ids.length) for (const a of acks) a.resolve();
        else setTimeout(() => reject(new Error('acknowledged only once the whole batch was sent')), 2000);
      });
    });
    await relay.start();
    try {
      await waitFor(async () => ((await unsent(prefix)).length === 0 ? true : undefined), 'every row marked sent', 10_000);
    } finally {
      await relay.stop();
    }
    expect(issued).toEqual(ids);
  });

  it('when one publish of a batch fails, then the rows JetStream acknowledged are marked sent, and the failed one is sent again before any row added since', async () => {
    const prefix = `p${randomUUID().slice(0, 8)}`;
    const ids = await append(prefix, 5);
    const issued: string[] = [];
    let added: string[] = [];
    let afterFirstBatch: string[] | undefined;
    const relay = relayOf(prefix, async (m) => {
      issued.push(m.msgId);
      // The first batch's outcome, as the second batch begins (its first send is the row that failed).
      if (issued.length === ids.length + 1) afterFirstBatch = await unsent(prefix);
      if (m.msgId === ids[2] && added.length === 0) {
        // A row committed while the batch is out: it comes after the failed one all the same.
        added = await append(prefix, 1);
        throw new Error('no acknowledgement');
      }
    });
    await relay.start();
    try {
      await waitFor(async () => ((await unsent(prefix)).length === 0 ? true : undefined), 'every row marked sent', 10_000);
    } finally {
      await relay.stop();
    }
    expect(afterFirstBatch).toEqual([ids[2], ...added]);
    expect(issued).toEqual([...ids, ids[2], ...added]);
  });
});
