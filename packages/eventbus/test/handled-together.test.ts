/**
 * eventbus's handledTogether on real PostgreSQL: what a caller hands along with a delivery reaches `handle` with that
 * delivery — in the shared transaction, and in the transaction of its own a delivery gets when the shared one fails —
 * and two deliveries of one event at once are two deliveries, each with its own.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createPool, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { createEvent, handledTogether } from '../src/index.ts';

interface Db {
  written: { label: string; txid: string };
}

describe('deliveries handled together, each with what its caller handed along', () => {
  let testDb: TestDatabase;
  let pool: Pool;
  let db: Kysely<Db>;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'together');
    pool = createPool(testDb.url, { max: 4 });
    await pool.query(`CREATE TABLE written (label text PRIMARY KEY, txid text NOT NULL)`);
    db = new Kysely<Db>({ dialect: new PostgresDialect({ pool }) });
  });
  afterAll(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  /** Writes the label its delivery was handed, in the delivery's transaction, and answers it. */
  const record = () =>
    handledTogether({
      db,
      max: 8,
      handle: async (trx, _event, _prepared, label: string) => {
        await sql`INSERT INTO written (label, txid) VALUES (${label}, txid_current()::text)`.execute(trx);
        return label;
      },
    });
  const event = (subject: string) => createEvent({ type: 'com.example.test.happened', source: '/test', subject, correlationId: subject, data: {} });
  const written = async () => (await sql<{ label: string; txid: string }>`SELECT label, txid FROM written ORDER BY label`.execute(db)).rows;

  it('when two deliveries of one event arrive at once, each handing along its own, then each is handled with its own, in one transaction', async () => {
    await sql`TRUNCATE written`.execute(db);
    const handle = record();
    const twice = event('case-1');
    const answers = await Promise.all([handle(twice, 'first'), handle(twice, 'second'), handle(event('case-2'), 'third')]);
    expect(answers).toEqual(['first', 'second', 'third']);
    const rows = await written();
    expect(rows.map((r) => r.label)).toEqual(['first', 'second', 'third']);
    expect(new Set(rows.map((r) => r.txid)).size).toBe(1);
  });

  it('when the shared transaction fails, then each delivery is handled alone with its own, and only the refused one fails', async () => {
    await sql`TRUNCATE written`.execute(db);
    await sql`INSERT INTO written (label, txid) VALUES ('taken', '0')`.execute(db);
    const handle = record();
    const results = await Promise.allSettled([handle(event('a'), 'kept-a'), handle(event('b'), 'taken'), handle(event('c'), 'kept-c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual(['kept-a', 'kept-c']);
    const rows = await written();
    expect(rows.map((r) => r.label)).toEqual(['kept-a', 'kept-c', 'taken']);
    // Each alone: two transactions of their own (the refused one rolled back).
    expect(rows.find((r) => r.label === 'kept-a')!.txid).not.toBe(rows.find((r) => r.label === 'kept-c')!.txid);
  });
});
