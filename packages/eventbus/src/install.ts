import type pg from 'pg';
import { PgBoss } from 'pg-boss';
import { migrate, quoteIdent, withTransaction, type Pool } from '@ems/platform';
import { deadLetterMigrations } from './postgres/dead-letters.ts';
import { outboxMigrations } from './nats/outbox.ts';
import { poolDatabase } from './postgres/pg-boss-database.ts';

/**
 * Installs (or brings up to date) the bus's tables in `schema`, as the database's admin: pg-boss's own
 * tables and functions (PostgreSQL adapter), the outbox (NATS adapter) and the dead letters (both).
 * Run by whoever migrates (`ems migrate`, the all-in-one process at start); a bus created with
 * `install: false` then runs as a role that may read and write those tables but never change them.
 * Idempotent; processes racing here serialise on an advisory lock (pg-boss's own install takes one too).
 */
export async function installEventBus(pool: Pool, options: { schema?: string } = {}): Promise<void> {
  const schema = options.schema ?? 'bus';
  await createBusSchema(pool, schema);
  // Both adapters' tables, whichever this installation uses (`ems migrate` is not told): pg-boss's are
  // unused under NATS, the outbox under PostgreSQL. pg-boss installs and migrates itself at start:
  // started once here with nothing else running, then stopped.
  {
    const boss = new PgBoss({ db: poolDatabase(pool), schema, migrate: true, supervise: false, schedule: false, useListenNotify: false, flowIntervalSeconds: 3600 });
    let failure: Error | undefined;
    boss.on('error', (err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(`pg-boss: ${JSON.stringify(err)}`);
    });
    await boss.start();
    await boss.stop({ graceful: false, close: false, timeout: 5_000 });
    if (failure) throw failure;
  }
  await migrate(pool, schema, [...deadLetterMigrations, ...outboxMigrations]);
  await keepJobStatisticsFresh(pool, schema);
}

/**
 * Statistics of pg-boss's job table kept fresh while a burst fills it. A job fetch marks the jobs it
 * took active with `UPDATE … FROM next WHERE name = <queue> AND id = next.id`: planned on statistics
 * taken when the queue held a handful of jobs (rows = 1 for the queue), it reads every job of the queue,
 * done ones too, at each fetch: O(jobs) per fetch (auto_explain, choreography burst of 1,000: 1,040 rows
 * read and 2,078 removed by the join filter to take 2; 0.7 ms per fetch at 300 cases, 1.35–1.6 ms at
 * 1,000). Analysed after 1,000 changes (+10 %), the queue's size is known and the plan looks each job up
 * by its key (0.24 ms per fetch at 1,000). Each ANALYZE makes every connection plan its prepared
 * statements on the table again, so not more often: at 200 changes (+2 %) planning per case rose
 * 0.28 → 1.51 ms and ate the gain. The autovacuum launcher visits a database every
 * `autovacuum_naptime` (the embedded server: 5 s; a server of your own: set it, or the first analysis
 * may come after the burst). Idempotent: run at every install.
 */
export async function keepJobStatisticsFresh(pool: Pool, schema: string): Promise<void> {
  await pool.query(
    `ALTER TABLE IF EXISTS ${quoteIdent(schema)}.job_common SET (autovacuum_analyze_scale_factor = 0.1, autovacuum_analyze_threshold = 1000)`,
  );
}

/** The bus's schema. Concurrent CREATE SCHEMA IF NOT EXISTS can fail with a unique violation: one installer at a time. */
export async function createBusSchema(pool: Pool, schema: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    await lockTopology(client, schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  });
}

/**
 * The bus's topology lock, for the transaction open on `client`: installing the schema, and moving what
 * waits under a renamed subscriber's former names (the PostgreSQL adapter) take it, one process at a time.
 */
export async function lockTopology(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ems.bus.schema.${schema}`]);
}
