import path from 'node:path';
import pg from 'pg';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawnChild } from './ems-process.ts';
import { dbCounters, type BenchServer } from './postgres.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * How long to wait before reading a final counter (commits, rows written). A backend publishes its statistics at
 * most once a second; one that goes idle less than a second after its last publication keeps them until
 * PGSTAT_IDLE_INTERVAL, 10 s later (pgstat_report_stat). At 1.5 s a short phase's writes by a backend that had just
 * published were missing (the smoke run's EMS rows read 0 on a quiet machine, 5 of 5 runs), and counted in the next.
 */
export const STATS_FLUSH_MS = 11_000;

export interface InsertCeiling {
  concurrency: number;
  durationMs: number;
  commits: number;
  commitsPerSecond: number;
}

/**
 * The raw commit rate of this PostgreSQL: single-row INSERTs, each its own transaction
 * (synchronous_commit as configured), from `concurrency` connections at once, for `durationMs`.
 */
export async function insertCeiling(server: BenchServer, concurrency: number, durationMs: number): Promise<InsertCeiling> {
  const db = await server.createDatabase('ceiling_insert');
  const pool = new pg.Pool({ connectionString: db.url, max: concurrency, application_name: 'ems-bench-ceiling' });
  try {
    await pool.query('CREATE TABLE bench_insert (id bigserial PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    // Open every connection before the clock starts.
    const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
    for (const c of clients) c.release();
    let commits = 0;
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (performance.now() < deadline) {
          await pool.query('INSERT INTO bench_insert (v) VALUES ($1)', [`w${w}`]);
          commits++;
        }
      }),
    );
    const elapsed = performance.now() - t0;
    return { concurrency, durationMs: Math.round(elapsed), commits, commitsPerSecond: (commits * 1000) / elapsed };
  } finally {
    await pool.end();
  }
}

export interface DbosCeiling {
  workflows: number;
  concurrency: number;
  poolSize: number;
  elapsedMs: number;
  workflowsPerSecond: number;
  commitsPerWorkflow: number;
}

/** A bare DBOS workflow of three parallel no-op steps, in its own process and database. */
export async function dbosCeiling(server: BenchServer, options: { workflows: number; concurrency: number; poolSize: number; statsFlushMs?: number }): Promise<DbosCeiling> {
  const flushMs = options.statsFlushMs ?? STATS_FLUSH_MS;
  const db = await server.createDatabase('ceiling_dbos');
  const child = spawnChild(path.join(import.meta.dirname, 'dbos-ceiling.child.ts'), {
    ...process.env,
    BENCH_DBOS_URL: db.url,
    BENCH_WORKFLOWS: String(options.workflows),
    BENCH_CONCURRENCY: String(options.concurrency),
    BENCH_DBOS_POOL: String(options.poolSize),
  });
  try {
    await child.next('warmed', 120_000);
    await sleep(flushMs);
    const before = await dbCounters(server, db.name);
    child.send({ type: 'go' });
    const { result } = await child.next('result', 600_000);
    await sleep(flushMs);
    const after = await dbCounters(server, db.name);
    const r = result as Omit<DbosCeiling, 'commitsPerWorkflow'>;
    return { ...r, commitsPerWorkflow: (after.xactCommit - before.xactCommit) / options.workflows };
  } finally {
    await child.stop(15_000);
  }
}

export interface NatsCeiling {
  concurrency: number;
  durationMs: number;
  published: number;
  /** JetStream publishes acknowledged per second (file storage, 500-byte messages). */
  publishesPerSecond: number;
}

/**
 * The bus engine's ceiling when EMS runs on NATS: JetStream publishes awaiting their ack, from
 * `concurrency` publishers at once, into a throwaway file-storage stream under a test prefix.
 */
export async function natsCeiling(servers: string, prefix: string, concurrency: number, durationMs: number): Promise<NatsCeiling> {
  const nc = await connect({ servers, timeout: 5_000 });
  const jsm = await jetstreamManager(nc);
  const stream = `${prefix}_CEILING`;
  const subject = `${prefix}.ceiling`;
  try {
    await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
    const js = jetstream(nc);
    const payload = new Uint8Array(500).fill(120);
    let published = 0;
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await js.publish(subject, payload);
          published++;
        }
      }),
    );
    const elapsed = performance.now() - t0;
    return { concurrency, durationMs: Math.round(elapsed), published, publishesPerSecond: (published * 1000) / elapsed };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}
