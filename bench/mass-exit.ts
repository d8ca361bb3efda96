/**
 * `npm run bench:mass-exit [-- --people 10000 --modes orchestration,choreography]`: a mass exit of N people on
 * the embedded default (EMS's own PostgreSQL in a fresh data directory, the built-in connector, the capture SMTP
 * server), each mode in its own EMS process seeded with the benchmark organisation (bench/org.ts: every person
 * has 4 ordinary and 2–3 critical grants). One POST /api/exits as the HR lead, then GET /api/exits/{id} every
 * 100 ms. Reports, from the POST's start:
 * - accepted: the 202 (every person checked, every case opened: set-based);
 * - all suspended: the first look at which EMS had recorded every person's suspension — so at most 100 ms after
 *   Access committed the last chunk (every grant, critical ones included, suspended in Access's transaction);
 * - settled: every person's manager and employee told too (notices queued in Notification's outbox);
 * and, read from Access's own tables after the run (the effect the issue's target is about):
 * - critical suspended (commit): when the last critical grant's suspension became visible — the latest
 *   pg_xact_commit_timestamp of a suspended critical grant's row (track_commit_timestamp is on);
 * - critical suspended (Access clock): max(updated_at) of those grants — the instant Access stamped, which is its
 *   transaction's start, so up to one chunk's transaction earlier than the commit.
 * Counts beside the times (noise does not change them): SQL statements and commits per chunk
 * (pg_stat_statements, pg_stat_database), CPU of the EMS process and of PostgreSQL per chunk.
 * `--profile`: a V8 CPU profile of the EMS process over the run, summarised in the result.
 * PostgreSQL: a fresh embedded server (the same binaries `npm start` uses, over its Unix socket), one per run.
 * Writes bench/results/<UTC time>-mass-exit.md.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { signIn } from '@ems/identity/testing';
import { benchOrg } from './org.ts';
import { startEmsProcess } from './ems-process.ts';
import { dbCounters, startBenchServer, statementCounts, type BenchServer } from './postgres.ts';
import { treeCpu, treeCpuDelta } from './proc.ts';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.ts';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    modes: { type: 'string', default: 'orchestration,choreography' },
    out: { type: 'string' },
    label: { type: 'string', default: 'mass-exit' },
    profile: { type: 'boolean', default: false },
    // A person watching the batch's page, not a tight loop: at 10,000 people one look costs PostgreSQL ≈ 0.2–1 s of CPU,
    // so 100 ms looks slowed what they measured. The exact instants come from the commit timestamps.
    'poll-ms': { type: 'string', default: '1000' },
    // Sample pg_stat_activity every 50 ms during the run: what each active backend waits on, and on whom (pg_locks).
    'sample-waits': { type: 'boolean', default: false },
  },
});
const people = Number(values.people);
const modes = values.modes.split(',') as Array<'orchestration' | 'choreography'>;

interface Run {
  mode: string;
  people: number;
  startupMs: number;
  acceptedMs: number;
  suspendedMs: number | null;
  settledMs: number | null;
  settledAtMs: number | null;
  /** Access's tables: the last critical grant's suspension committed / stamped, from the POST's start. */
  criticalCommitMs: number | null;
  criticalStampMs: number | null;
  /** Critical grants of the batch's people still active after the run (must be 0). */
  criticalActive: number;
  failed: number;
  chunks: number;
  commits: number;
  statements: number;
  /** Per schema-ish kind: statements touching access.* / ems.* / notification.* / other. */
  statementsBy: Record<string, number>;
  topStatements: Array<{ query: string; calls: number; execMs: number }>;
  costlyStatements: Array<{ query: string; calls: number; execMs: number }>;
  /** EMS's tables: the last suspendAccess / announceDecision step recorded (commit), from the POST's start. */
  emsRecordedCommitMs: number | null;
  emsSettledCommitMs: number | null;
  emsCpuS: number;
  pgCpuS: number;
  waits: WaitSample[] | undefined;
  profile: ProfileSummary | undefined;
}

/** One kind of wait seen by the sampler: how many samples saw a backend running `query` wait on `event`, blocked by `blocker`. */
interface WaitSample {
  event: string;
  query: string;
  blocker: string;
  samples: number;
}

/**
 * Every 50 ms, each active backend of the database (but this one): its wait event (CPU when none) and, when a lock
 * holds it, the statement of the backend holding it (pg_blocking_pids). Counted, not timed: samples × 50 ms ≈ time.
 */
function sampleWaits(url: string): { stop: () => Promise<WaitSample[]> } {
  const c = new pg.Client({ connectionString: url, application_name: 'ems-bench-waits' });
  const seen = new Map<string, WaitSample>();
  let stopped = false;
  const short = (q: string | null) => (q ?? '').replace(/\s+/g, ' ').slice(0, 90);
  const loop = (async () => {
    await c.connect();
    while (!stopped) {
      const { rows } = await c.query<{ event: string; query: string | null; blocker: string | null }>(
        `SELECT coalesce(a.wait_event_type || ':' || a.wait_event, 'CPU') AS event, a.query,
                (SELECT b.query FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]) AS blocker
           FROM pg_stat_activity a
          WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()`,
      );
      for (const r of rows) {
        const key = `${r.event}|${short(r.query)}|${short(r.blocker)}`;
        const w = seen.get(key) ?? { event: r.event, query: short(r.query), blocker: short(r.blocker), samples: 0 };
        w.samples++;
        seen.set(key, w);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await c.end();
      return [...seen.values()].sort((a, b) => b.samples - a.samples).slice(0, 20);
    },
  };
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function run(mode: 'orchestration' | 'choreography', server: BenchServer): Promise<Run> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `ems-mass-exit-${mode}-`));
  const logFile = path.join(tmpdir(), `ems-mass-exit-${mode}-${process.pid}.log`);
  const db = await server.createDatabase(`mass_exit_${mode}`);
  const t0 = performance.now();
  const ems = await startEmsProcess(
    {
      EMS_MODE: mode,
      EMS_DATA_DIR: dataDir,
      EMS_DATABASE_URL: db.url,
      EMS_PORT: '0',
      EMS_LOG_LEVEL: 'warn',
      EMS_SEED: 'true',
      EMS_SECRETS_KEY: randomBytes(32).toString('base64'),
    },
    people,
    logFile,
    600_000,
  );
  const startupMs = Math.round(performance.now() - t0);
  log(`${mode}: EMS up in ${startupMs} ms with ${people} people (log: ${logFile})`);
  try {
    const base = ems.url;
    const auth = { authorization: `Bearer ${(await signIn(base, 'hr-lead')).accessToken}` };
    const { resigners } = benchOrg({ resigners: people });
    const body = { employees: resigners.map((employeeId) => ({ employeeId })), reason: 'redundancy', revokeAt: new Date(Date.now() + 86_400_000).toISOString() };
    if (server.statements) await server.monitor.query('SELECT pg_stat_statements_reset()');
    await sleep(600); // statistics flush (pg_stat_database is read from shared memory, updated at most every 500 ms)
    const counters0 = await dbCounters(server, db.name);
    const emsCpu0 = treeCpu(ems.pid);
    const pgCpu0 = treeCpu(server.postmasterPid!);
    const profiling = values.profile ? await ems.profile(path.join(tmpdir(), `ems-mass-exit-${mode}-${process.pid}.cpuprofile`)) : undefined;
    const sampler = values['sample-waits'] ? sampleWaits(db.url) : undefined;
    const start = performance.now();
    const startedAt = Date.now();
    const res = await fetch(`${base}/api/exits`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body: JSON.stringify(body), signal: AbortSignal.timeout(300_000) });
    const acceptedMs = Math.round(performance.now() - start);
    const started = (await res.json()) as { id: string; chunks: number; detail?: string };
    if (res.status !== 202) throw new Error(`POST /api/exits answered ${res.status}: ${started.detail ?? JSON.stringify(started).slice(0, 500)}`);
    log(`${mode}: accepted in ${acceptedMs} ms (${started.chunks} chunks)`);
    let suspendedMs: number | null = null;
    let settledMs: number | null = null;
    let last: { accessSuspended: number; noticesSent: number; failed: number; settled: boolean; settledAt: string | null; total: number } | undefined;
    const deadline = performance.now() + 600_000;
    while (performance.now() < deadline) {
      const p = await fetch(`${base}/api/exits/${started.id}?limit=1`, { headers: auth });
      last = (await p.json()) as NonNullable<typeof last>;
      const now = Math.round(performance.now() - start);
      if (suspendedMs === null && last.accessSuspended + last.failed >= last.total) {
        suspendedMs = now;
        log(`${mode}: every person's suspension recorded at ${now} ms`);
      }
      if (last.settled) {
        settledMs = now;
        log(`${mode}: settled at ${now} ms (${last.noticesSent} told, ${last.failed} failed)`);
        break;
      }
      await sleep(Number(values['poll-ms']));
    }
    const profileFile = await profiling?.stop();
    const waits = await sampler?.stop();
    const emsCpuS = treeCpuDelta(emsCpu0, treeCpu(ems.pid));
    const pgCpuS = treeCpuDelta(pgCpu0, treeCpu(server.postmasterPid!));
    await sleep(600);
    const counters1 = await dbCounters(server, db.name);
    const statements = await statementCounts(server, db.name);
    const effect = await criticalSuspension(db.url, resigners, started.id, startedAt);
    const schemaOf = (q: string) => /\b(access|ems|notification|hr|dbos|pgboss|eventbus)"?\./.exec(q)?.[1] ?? 'other';
    const kindOf = (q: string) => (/^\s*(begin|commit|rollback|select pg_advisory|savepoint|release)/i.test(q) ? 'tx' : schemaOf(q));
    const statementsBy: Record<string, number> = {};
    for (const st of statements) statementsBy[kindOf(st.query)] = (statementsBy[kindOf(st.query)] ?? 0) + st.calls;
    return {
      mode,
      people,
      startupMs,
      acceptedMs,
      suspendedMs,
      settledMs,
      settledAtMs: last?.settledAt ? Date.parse(last.settledAt) - startedAt : null,
      ...effect,
      failed: last?.failed ?? -1,
      chunks: started.chunks,
      commits: counters1.xactCommit - counters0.xactCommit,
      statements: statements.reduce((n, st) => n + st.calls, 0),
      statementsBy,
      topStatements: statements.slice(0, 12).map((st) => ({ query: st.query, calls: st.calls, execMs: st.execMs })),
      costlyStatements: [...statements].sort((a, b) => b.execMs - a.execMs).slice(0, 12).map((st) => ({ query: st.query, calls: st.calls, execMs: st.execMs })),
      emsCpuS,
      pgCpuS,
      waits,
      profile: profileFile ? await summarizeProfile(profileFile, 25) : undefined,
    };
  } finally {
    await ems.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** When the batch's critical grants were suspended, by Access's own rows (see the module comment). */
async function criticalSuspension(url: string, employees: readonly string[], batchId: string, startedAt: number) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ committed: Date | null; stamped: Date | null; active: string }>(
      `SELECT max(pg_xact_commit_timestamp(g.xmin)) FILTER (WHERE g.status = 'suspended') AS committed,
              max(g.updated_at) FILTER (WHERE g.status = 'suspended') AS stamped,
              count(*) FILTER (WHERE g.status = 'active')::text AS active
         FROM access.grants g JOIN access.systems s ON s.id = g.system_id
        WHERE s.critical AND g.employee_id = ANY($1::text[])`,
      [employees],
    );
    const r = rows[0]!;
    const { rows: steps } = await c.query<{ recorded: Date | null; settled: Date | null }>(
      `SELECT max(pg_xact_commit_timestamp(st.xmin)) FILTER (WHERE st.name = 'suspendAccess') AS recorded,
              max(pg_xact_commit_timestamp(st.xmin)) FILTER (WHERE st.name = 'announceDecision') AS settled
         FROM ems.resignations r JOIN ems.steps st ON st.resignation_id = r.id
        WHERE r.batch_id = $1::uuid AND st.name IN ('suspendAccess', 'announceDecision')`,
      [batchId],
    );
    return {
      emsRecordedCommitMs: steps[0]?.recorded ? steps[0].recorded.getTime() - startedAt : null,
      emsSettledCommitMs: steps[0]?.settled ? steps[0].settled.getTime() - startedAt : null,
      criticalCommitMs: r.committed ? r.committed.getTime() - startedAt : null,
      criticalStampMs: r.stamped ? r.stamped.getTime() - startedAt : null,
      criticalActive: Number(r.active),
    };
  } finally {
    await c.end();
  }
}

const server = await startBenchServer({ statements: true, commitTimestamps: true });
const results: Run[] = [];
try {
  for (const mode of modes) results.push(await run(mode, server));
} finally {
  await server.stop();
}

const s = (ms: number | null) => (ms === null ? 'not reached' : `${(ms / 1000).toFixed(2)} s`);
const stamp = new Date().toISOString().slice(0, 16).replace(':', '-');
const per = (n: number, r: Run) => (n / r.chunks).toFixed(1);
const lines = [
  `# Mass exit of ${people} people — ${new Date().toISOString().slice(0, 16)}Z (${values.label})`,
  '',
  "Fresh embedded PostgreSQL (the binaries `npm start` uses, over its Unix socket), built-in connector, capture SMTP;",
  '`npm run bench:mass-exit`. One POST /api/exits as the HR lead; times from the POST\'s start.',
  '- **critical suspended (commit)**: the last critical grant\'s suspension committed in Access (pg_xact_commit_timestamp of the',
  '  grant rows, read from Access\'s tables after the run) — the effect the target is about; **(Access clock)**: max(updated_at)',
  '  of those rows, stamped at its transaction\'s start.',
  `- **EMS recorded all**: the first look (every ${values['poll-ms']} ms) at GET /api/exits/{id} at which EMS had recorded every person\'s`,
  '  suspension; **(commit)**: the last suspendAccess step\'s commit in EMS\'s tables.',
  '- **settled**: every person\'s manager and employee told too (the look; **(commit)**: the last announceDecision step\'s commit).',
  'Target (issue 15): all critical grants suspended ≤ 10 s.',
  '',
  '| mode | people | chunks | accepted (202) | critical suspended (commit) | (Access clock) | EMS recorded all | (commit) | settled | (commit) | failed | critical still active | target ≤ 10 s |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.mode} | ${r.people} | ${r.chunks} | ${s(r.acceptedMs)} | ${s(r.criticalCommitMs)} | ${s(r.criticalStampMs)} | ${s(r.suspendedMs)} | ${s(r.emsRecordedCommitMs)} | ${s(r.settledMs)} | ${s(r.emsSettledCommitMs)} | ${r.failed} | ${r.criticalActive} | ${r.criticalCommitMs !== null && r.criticalActive === 0 && r.criticalCommitMs <= 10_000 ? 'met' : 'missed'} |`,
  ),
  '',
  'Counts from the POST to settled, per chunk of 500 (whole run ÷ chunks):',
  '',
  '| mode | commits | SQL statements | access | ems | notification | hr | dbos | pgboss | BEGIN/COMMIT/locks | other | EMS process CPU | PostgreSQL CPU |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.mode} | ${per(r.commits, r)} | ${per(r.statements, r)} | ${per(r.statementsBy.access ?? 0, r)} | ${per(r.statementsBy.ems ?? 0, r)} | ${per(r.statementsBy.notification ?? 0, r)} | ${per(r.statementsBy.hr ?? 0, r)} | ${per(r.statementsBy.dbos ?? 0, r)} | ${per(r.statementsBy.pgboss ?? 0, r)} | ${per(r.statementsBy.tx ?? 0, r)} | ${per(r.statementsBy.other ?? 0, r)} | ${Math.round((r.emsCpuS * 1000) / r.chunks)} ms | ${Math.round((r.pgCpuS * 1000) / r.chunks)} ms |`,
  ),
  '',
];
for (const r of results) {
  lines.push(`## ${r.mode}: most called statements (calls per chunk, execution ms per chunk)`, '', '| calls | exec ms | statement |', '|---|---|---|');
  const row = (st: { query: string; calls: number; execMs: number }) => `| ${per(st.calls, r)} | ${(st.execMs / r.chunks).toFixed(1)} | \`${st.query.replace(/\s+/g, ' ').slice(0, 140).replace(/\|/g, '\\|')}\` |`;
  for (const st of r.topStatements) lines.push(row(st));
  lines.push('', `## ${r.mode}: costliest statements (execution ms per chunk)`, '', '| calls | exec ms | statement |', '|---|---|---|');
  for (const st of r.costlyStatements) lines.push(row(st));
  lines.push('');
  if (r.waits) {
    lines.push(`## ${r.mode}: what active backends waited on (samples every 50 ms, POST to settled)`, '', '| samples | wait | statement | blocked by |', '|---|---|---|---|');
    for (const w of r.waits) lines.push(`| ${w.samples} | ${w.event} | \`${w.query.replace(/\|/g, '\\|')}\` | ${w.blocker ? `\`${w.blocker.replace(/\|/g, '\\|')}\`` : ''} |`);
    lines.push('');
  }
  if (r.profile) {
    lines.push(`## ${r.mode}: EMS process CPU profile (${r.profile.wallMs} ms, busy ${(r.profile.busyShare * 100).toFixed(0)} %)`, '', '| self ms | share | component |', '|---|---|---|');
    for (const c of r.profile.components) lines.push(`| ${c.ms} | ${(c.share * 100).toFixed(1)} % | ${c.name} |`);
    lines.push('', '| self ms | share | function |', '|---|---|---|');
    for (const f of r.profile.functions) lines.push(`| ${f.ms} | ${(f.share * 100).toFixed(1)} % | \`${f.name}\` |`);
    lines.push('');
  }
}
const out = values.out ?? path.join(import.meta.dirname, 'results', `${stamp}Z-${values.label}.md`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, lines.join('\n'));
process.stdout.write(lines.join('\n'));
log(`written to ${out}`);
