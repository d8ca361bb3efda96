import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { quoteIdent, startEmbeddedPostgres, withDatabase, type EmbeddedPostgres } from '@ems/platform';
import { createTestDatabase } from '@ems/platform/testing';

/**
 * The PostgreSQL one mode runs on: a fresh embedded server in a temporary directory (its processes
 * are ours, so their CPU and memory are attributable), or — given a server URL — throwaway databases
 * on that server (named like test databases, dropped afterwards; no process attribution).
 */
export interface BenchServer {
  readonly kind: 'embedded' | 'external';
  /** The postmaster's pid (embedded only). */
  readonly postmasterPid: number | undefined;
  readonly version: string;
  /** Whether pg_stat_statements is collecting (embedded with `statements: true`). */
  readonly statements: boolean;
  createDatabase(label: string): Promise<{ url: string; name: string }>;
  /** A client on the server's `postgres` database: reading statistics there commits nothing in the measured databases. */
  monitor: pg.Client;
  stop(): Promise<void>;
}

export async function startBenchServer(options: { serverUrl?: string | undefined; statements?: boolean; commitTimestamps?: boolean }): Promise<BenchServer> {
  if (options.serverUrl) return externalServer(options.serverUrl);
  return embeddedServer(options.statements ?? false, options.commitTimestamps ?? false);
}

/** `commitTimestamps`: track_commit_timestamp on, so pg_xact_commit_timestamp(xmin) says when a row's change became visible. */
async function embeddedServer(statements: boolean, commitTimestamps = false): Promise<BenchServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ems-bench-pg-'));
  let pgServer: EmbeddedPostgres | undefined;
  try {
    pgServer = await startEmbeddedPostgres({ dataDir: dir, database: 'postgres' });
    if (statements || commitTimestamps) {
      // The extension must be preloaded: set it for the cluster, restart once.
      const c = new pg.Client({ connectionString: pgServer.url });
      await c.connect();
      if (statements) {
        await c.query(`ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`);
        await c.query(`ALTER SYSTEM SET pg_stat_statements.max = 10000`);
        // Planning time apart from execution time: what preparing statements saves.
        await c.query(`ALTER SYSTEM SET pg_stat_statements.track_planning = on`);
      }
      if (commitTimestamps) await c.query(`ALTER SYSTEM SET track_commit_timestamp = on`);
      await c.end();
      await pgServer.stop();
      pgServer = await startEmbeddedPostgres({ dataDir: dir, database: 'postgres' });
    }
    const running = pgServer;
    const monitor = await connect(running.url);
    if (statements) await monitor.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const pid = Number(readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return {
      kind: 'embedded',
      postmasterPid: pid,
      version: await serverVersion(monitor),
      statements,
      monitor,
      async createDatabase(label) {
        const name = `bench_${label}`;
        await monitor.query(`CREATE DATABASE ${quoteIdent(name)}`);
        // EMS reaches it as `npm start` reaches its embedded server: over the Unix socket.
        return { url: withDatabase(running.socketUrl, name), name };
      },
      async stop() {
        await monitor.end().catch(() => undefined);
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await pgServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function externalServer(serverUrl: string): Promise<BenchServer> {
  const monitor = await connect(withDatabase(serverUrl, 'postgres'));
  const drops: Array<() => Promise<void>> = [];
  return {
    kind: 'external',
    postmasterPid: undefined,
    version: await serverVersion(monitor),
    statements: false,
    monitor,
    async createDatabase(label) {
      const db = await createTestDatabase(serverUrl, `bench${label}`);
      drops.push(() => db.drop());
      return { url: db.url, name: db.name };
    },
    async stop() {
      await monitor.end().catch(() => undefined);
      for (const drop of drops) await drop().catch(() => undefined);
    },
  };
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'ems-bench-monitor' });
  await c.connect();
  return c;
}

async function serverVersion(c: pg.Client): Promise<string> {
  const r = await c.query<{ server_version: string }>('SHOW server_version');
  return r.rows[0]!.server_version;
}

/** Counters of one database at an instant. */
export interface DbCounters {
  at: number;
  xactCommit: number;
  xactRollback: number;
  /** Cluster-wide WAL position, bytes. */
  walBytes: number;
}

export async function dbCounters(server: BenchServer, database: string): Promise<DbCounters> {
  const r = await server.monitor.query<{ xact_commit: string; xact_rollback: string; lsn: string }>(
    `SELECT xact_commit::text, xact_rollback::text, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`no statistics for database ${database}`);
  const [hi, lo] = row.lsn.split('/');
  return { at: Date.now(), xactCommit: Number(row.xact_commit), xactRollback: Number(row.xact_rollback), walBytes: parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16) };
}

/** Rows written per schema (inserted + updated + deleted), read in the database itself. */
export async function tupleWrites(url: string): Promise<Record<string, number>> {
  const c = await connect(url);
  try {
    const r = await c.query<{ schemaname: string; writes: string }>(
      `SELECT schemaname, sum(n_tup_ins + n_tup_upd + n_tup_del)::text AS writes FROM pg_stat_user_tables GROUP BY schemaname`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.schemaname, Number(x.writes)]));
  } finally {
    await c.end();
  }
}

export interface StatementCount {
  query: string;
  /** Executions: each one a round trip from the client (BEGIN and COMMIT included: track_utility is on by default). */
  calls: number;
  /** Times it was planned (0 for a prepared statement running its cached generic plan). */
  plans: number;
  /** Time the server spent planning it (total_plan_time), ms. */
  planMs: number;
  /** Time the server spent executing it (pg_stat_statements' total_exec_time: planning, parsing and commit excluded), ms. */
  execMs: number;
}

/** Calls and execution time per statement in one database (pg_stat_statements), most called first. */
export async function statementCounts(server: BenchServer, database: string): Promise<StatementCount[]> {
  if (!server.statements) return [];
  const r = await server.monitor.query<{ query: string; calls: string; plans: string; plan_ms: number; exec_ms: number }>(
    `SELECT s.query, sum(s.calls)::text AS calls, sum(s.plans)::text AS plans, sum(s.total_plan_time)::float8 AS plan_ms, sum(s.total_exec_time)::float8 AS exec_ms
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 GROUP BY s.query ORDER BY sum(s.calls) DESC`,
    [database],
  );
  return r.rows.map((x) => ({ query: x.query, calls: Number(x.calls), plans: Number(x.plans), planMs: x.plan_ms, execMs: x.exec_ms }));
}

/**
 * A foreign-key check PostgreSQL runs itself (an RI trigger's query), never sent by a client: pg_stat_statements
 * shows it when it tracks nested statements, and for a deferred constraint also at COMMIT (then as a top-level one).
 */
export const isForeignKeyCheck = (query: string): boolean => /^SELECT \$\d+ FROM ONLY /.test(query);

/** Statement calls and execution time between two readings, most called first. */
export function statementDelta(before: StatementCount[], after: StatementCount[]): StatementCount[] {
  const prior = new Map(before.map((s) => [s.query, s]));
  return after
    .map((s) => {
      const p = prior.get(s.query);
      return { query: s.query, calls: s.calls - (p?.calls ?? 0), plans: s.plans - (p?.plans ?? 0), planMs: s.planMs - (p?.planMs ?? 0), execMs: s.execMs - (p?.execMs ?? 0) };
    })
    .filter((s) => s.calls > 0)
    .sort((a, b) => b.calls - a.calls);
}
