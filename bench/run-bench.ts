/*
 * One benchmark run: per mode, a fresh PostgreSQL, the engines' ceilings on it, then EMS in its own
 * process, loaded through the public API.
 *
 *   per mode ─ fresh PostgreSQL (embedded, or throwaway databases on EMS_DATABASE_URL's server)
 *     ├─ ceilings: raw single-row INSERT commits/s · bare DBOS 3-parallel-no-op-step workflows/s
 *     ├─ EMS child process (seeded with the benchmark organisation) → idle commit rate
 *     ├─ orchestration: ceiling 3 — the participants' own work, their three calls per case made directly
 *     ├─ warm-up: W cases submitted and settled, not measured
 *     ├─ burst:  N POSTs, `concurrency` in flight → all three steps settled → quiet again
 *     └─ steady: M POSTs at R/s, open loop        → all three steps settled → quiet again
 *   → report (markdown + JSON)
 *
 * Every latency is "server step timestamp − the client's wall clock when it sent the POST", both the
 * system clock of this one host (EMS runs on the system clock unless EMS_CLOCK_OFFSET is set, which
 * the benchmark never does).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import type { ems } from '@ems/contracts';
import { BUS_SCHEMA, ConfigSchema, WORKFLOW_SCHEMA } from '@ems/server';
import { SUSPEND_ACCESS_SUBSCRIBER } from '@ems/access';
import { removeNatsStreams, TEST_NATS_PREFIX } from '@ems/eventbus/testing';
import { dbosCeiling, insertCeiling, natsCeiling, type DbosCeiling, type InsertCeiling, type NatsCeiling } from './ceilings.ts';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.ts';
import { spawnChild, startEmsProcess, type Child, type EmsProcess, type EventLoopReport } from './ems-process.ts';
import { burst, steady, waitSettled, type Api, type Submission } from './load.ts';
import { BENCH_HR_LEAD, loadCredentials, measureCheckCost, orchestratorCredentials, type CheckCost } from './auth.ts';
import { createSecrets } from '@ems/identity';
import { browserSession } from '@ems/identity/testing';
import { openInertCases, PARTICIPANT_CALLS, participantsCeiling, type ParticipantCall, type ParticipantsCeiling } from './participants.ts';
import { benchOrg } from './org.ts';
import { dbCounters, isForeignKeyCheck, startBenchServer, statementCounts, statementDelta, tupleWrites, type BenchServer, type DbCounters } from './postgres.ts';
import { contextSwitches, cpuModel, cpuTimes, loadAverage, natsServerPid, syscalls, treeCpu, treeCpuDelta, treePss } from './proc.ts';
import { distribution, type Distribution } from './stats.ts';
import { firstStages, holdStages, type HoldStages } from './stages.ts';

export type Mode = 'orchestration' | 'choreography';
export type Bus = 'postgres' | 'nats';

export interface BenchOptions {
  modes: Mode[];
  bus: Bus;
  /** Cases of the burst phase; 0 skips it. */
  burstCases: number;
  /** Cases of the steady phase; 0 skips it. */
  steadyCases: number;
  /** Submissions per second in the steady phase. */
  rate: number;
  /** Requests in flight in the burst, and connections of the raw-INSERT and DBOS ceilings. */
  concurrency: number;
  /** Cases submitted and settled before the phases, unmeasured: JIT, pools and plan caches warm. */
  warmupCases: number;
  /** A PostgreSQL server to create throwaway databases on, instead of a fresh embedded one per mode. */
  serverUrl?: string | undefined;
  insertCeilingMs: number;
  /** Requests per credential when measuring what admitting a caller costs (bench/auth.ts). */
  checkRequests: number;
  /** Only what issue 15's targets need: no admission-cost checks, no ceiling 3 (participants alone). */
  onlyTargets?: boolean;
  /** Workflows of the DBOS ceiling (default: as many as burst cases, at least 200). */
  ceilingWorkflows: number;
  /** Idle window measuring the commits EMS makes with nothing to do (pollers). */
  idleMs: number;
  /** Longest wait, after the cases settle, for trailing work (invites, webhooks) to finish. */
  quiesceMaxMs: number;
  pollMs: number;
  /** Wait before reading a final statistics counter (PostgreSQL backends publish them about once a second). */
  statsFlushMs: number;
  /** V8 CPU profile of the EMS process during each phase, and pg_stat_statements (embedded only). */
  profile: boolean;
  /**
   * Where EMS sends mail: 'relay' (default) — an SMTP server in a process of its own, as production
   * has; 'capture' — EMS's built-in capture server, inside the EMS process (npm start's default).
   */
  smtp: 'relay' | 'capture';
  /** Extra EMS_* settings for the EMS process (e.g. an adapter's URL). */
  emsEnv: Record<string, string>;
  /** The command line, for the report. */
  command: string;
  signal?: AbortSignal | undefined;
  /** Progress lines (overwritable), and lasting log lines. */
  progress?: ((line: string) => void) | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface PhaseReport {
  kind: 'burst' | 'steady';
  cases: number;
  /** burst: requests in flight; steady: target rate per second. */
  concurrency: number | null;
  rate: number | null;
  achievedRate: number | null;
  lateSends: number | null;
  answers: Record<string, number>;
  errors: { non2xx: number; failedSteps: number; unsettled: number; samples: string[] };
  /** Cases with all three steps done. */
  settledCases: number;
  /** Burst: cases with all three steps done / (the last one's last step − first POST sent). */
  casesPerSecond: number | null;
  latencyMs: {
    postAnswer: Distribution;
    accessSuspended: Distribution;
    allThreeDone: Distribution;
    /** Submit → each step done: which participant lags. */
    steps: { notifyManager: Distribution; scheduleInterview: Distribution; suspendAccess: Distribution };
    /** Submit → critical access suspended, stage by stage (stages.ts). */
    holdStages: HoldStages;
  };
  durationMs: number;
  quiesceMs: number;
  commits: { total: number; idleAdjusted: number; perCase: number; rollbacks: number };
  walBytesPerCase: number | null;
  rowsWrittenPerCase: Record<string, number>;
  /** nats: the nats-server process EMS uses (shared with anything else using it). */
  cpuMsPerCase: { ems: number; postgres: number | null; nats: number | null; mailRelay: number | null; loadGenerator: number; emsAndPostgres: number | null };
  /** The part of cpuMsPerCase spent in the kernel (stime: system calls, socket reads and writes, fsync); the rest is user time. */
  systemCpuMsPerCase: { ems: number; postgres: number | null };
  /**
   * Context switches of the EMS process's main thread per case: waits for work (voluntary) and preemptions while it
   * had work (involuntary; see proc.ts contextSwitches — what a CPU profile shows as time in `writev`).
   */
  emsContextSwitchesPerCase: { voluntary: number; involuntary: number } | null;
  /** Average cores busy during the phase. */
  coresBusy: { ems: number; postgres: number | null; loadGenerator: number };
  /** Every SQL statement the phase ran, per case (embedded server only: pg_stat_statements), foreign-key checks PostgreSQL ran at COMMIT included. */
  statementsTotalPerCase: number | null;
  /** The same without the foreign-key checks PostgreSQL runs itself (isForeignKeyCheck): each one a round trip from its client. */
  statementsSentPerCase: number | null;
  /** Read and write system calls of the EMS process per case (/proc/<pid>/io): its round trips to PostgreSQL, SMTP and its own HTTP hops. */
  emsSyscallsPerCase: { reads: number; writes: number } | null;
  /** PostgreSQL's planning and execution per case, summed over the statements (embedded only). */
  sqlPerCase: { plans: number; planMs: number; execMs: number } | null;
  statementsPerCase: Array<{ query: string; calls: number; plans: number; planMs: number; execMs: number }>;
  profile: ProfileSummary | null;
  /** The EMS process's event loop from the first POST until every case settled. */
  eventLoop: EventLoopReport;
}

export interface ModeReport {
  mode: Mode;
  bus: Bus;
  postgres: { kind: 'embedded' | 'external'; version: string };
  ceilings: { insert: InsertCeiling; dbos: DbosCeiling; nats: NatsCeiling | null; participants: ParticipantsReport | null };
  /** What admitting a caller costs per request, by credential (bench/auth.ts). */
  checks: CheckCost[];
  startupMs: number;
  idleCommitsPerSecond: number;
  phases: PhaseReport[];
  memory: { emsPeakRssBytes: number | null; postgresPeakPssBytes: number | null };
  ratios: {
    /** Burst cases/s ÷ bare-DBOS workflows/s (orchestration's target: ≥ 0.6). */
    burstToDbos: number | null;
    /** Participants-only cases/s ÷ bare-DBOS workflows/s: the most burstToDbos could reach (orchestration). */
    participantsToDbos: number | null;
    /** Burst cases/s ÷ participants-only cases/s: what EMS's own work leaves of the participants' rate. */
    burstToParticipants: number | null;
    /** Burst cases/s ÷ raw INSERT commits/s. */
    burstToInsert: number | null;
    /** Share of the raw commit rate the burst used: cases/s × commits per case ÷ raw commits/s. */
    commitBudgetUsed: number | null;
  };
  /** Issue 15's targets for this mode, each with the figure of this run. */
  targets: Target[];
  errors: number;
}

export interface Target {
  name: string;
  /** The figure measured (null: the phase did not run, or the server could not tell). */
  value: number | null;
  unit: string;
  /** 'max': the value must be at most `limit`; 'min': at least. */
  kind: 'max' | 'min';
  limit: number;
  met: boolean | null;
  /** Under which conditions the target is defined, when this run's differ (e.g. a smaller burst). */
  note: string | null;
}

/** Issue 15 §2: per mode, the lean path's targets. */
const TARGETS = {
  orchestration: { cpuMsPerCase: 30, burstToDbos: 0.35, commitsPerCase: 12 },
  choreography: { cpuMsPerCase: 20, burstToDbos: 0.5, commitsPerCase: 8 },
} as const;
const TARGET_BURST_CASES = 2000;
const TARGET_STEADY_RATE = 20;

export function targetsOf(mode: Mode, phases: PhaseReport[], burstToDbos: number | null): Target[] {
  const t = TARGETS[mode];
  const b = phases.find((p) => p.kind === 'burst');
  const st = phases.find((p) => p.kind === 'steady');
  const target = (name: string, value: number | null | undefined, unit: string, kind: 'max' | 'min', limit: number, note: string | null = null): Target => {
    const v = value ?? null;
    return { name, value: v, unit, kind, limit, met: v === null ? null : kind === 'max' ? v <= limit : v >= limit, note };
  };
  const smallBurst = b && b.cases < TARGET_BURST_CASES ? `a burst of ${b.cases}, not ${TARGET_BURST_CASES}` : null;
  const otherRate = st && st.rate !== TARGET_STEADY_RATE ? `at ${st.rate}/s, not ${TARGET_STEADY_RATE}/s` : null;
  return [
    target('CPU per case, EMS + PostgreSQL (burst)', b?.cpuMsPerCase.emsAndPostgres, 'ms', 'max', t.cpuMsPerCase),
    target('burst cases/s ÷ bare DBOS workflows/s', burstToDbos, '×', 'min', t.burstToDbos),
    target('commits per case (burst)', b?.commits.perCase, '', 'max', t.commitsPerCase),
    target('submit → critical access suspended, p99 (burst)', b?.latencyMs.accessSuspended.p99, 'ms', 'max', 1000, smallBurst),
    target(`submit → critical access suspended, p99 (steady ${TARGET_STEADY_RATE}/s)`, st?.latencyMs.accessSuspended.p99, 'ms', 'max', 100, otherRate),
  ];
}

/** A run of participant calls with what it cost: per case, CPU of the EMS process (the participants live there) and of PostgreSQL, and commits. */
export interface ParticipantsCost extends ParticipantsCeiling {
  cpuMsPerCase: { ems: number; postgres: number | null };
  commitsPerCase: number;
}

/** Ceiling 3: all three calls per case; and each call kind alone, per call. */
export interface ParticipantsReport extends ParticipantsCost {
  alone: Record<ParticipantCall, ParticipantsCost>;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cores: number; cpu: string; memoryBytes: number; node: string; platform: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  clock: string;
  options: Omit<BenchOptions, 'signal' | 'progress' | 'log' | 'emsEnv' | 'command'>;
  modes: ModeReport[];
  errors: number;
}

/** Whether EMS accepts this bus adapter yet (the NATS adapter joins by adding it to EMS_BUS). */
export function busAvailable(bus: Bus): boolean {
  return ConfigSchema.shape.EMS_BUS.safeParse(bus).success;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  if (!busAvailable(options.bus)) {
    throw new Error(`--bus ${options.bus}: not yet available — EMS has no ${options.bus} event bus adapter yet (EMS_BUS accepts: ${ConfigSchema.shape.EMS_BUS.unwrap().options.join(', ')})`);
  }
  const startedAt = new Date();
  const loadAverageStart = loadAverage();
  const modes: ModeReport[] = [];
  for (const mode of options.modes) modes.push(await runMode(mode, options));
  const { signal: _s, progress: _p, log: _l, emsEnv: _e, command, ...rest } = options;
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command,
    machine: {
      cores: availableParallelism(),
      cpu: cpuModel(),
      memoryBytes: totalmem(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverageStart,
      loadAverageEnd: loadAverage(),
    },
    clock: "system clock of this host: server step `at` (EMS's clock) − the client's Date.now() when it sent the POST",
    options: rest,
    modes,
    errors: modes.reduce((n, m) => n + m.errors, 0),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
  });
}

async function runMode(mode: Mode, o: BenchOptions): Promise<ModeReport> {
  const log = o.log ?? (() => undefined);
  log(`${mode}: starting a fresh PostgreSQL${o.serverUrl ? ' database' : ''}`);
  // Statements are always counted (round trips, planning): pg_stat_statements costs little beside EMS.
  const server = await startBenchServer({ serverUrl: o.serverUrl, statements: true });
  let emsProcess: EmsProcess | undefined;
  let relay: Child | undefined;
  let nats: { servers: string; prefix: string } | undefined;
  const profileDir = o.profile ? await mkdtemp(path.join(tmpdir(), 'ems-bench-prof-')) : undefined;
  let pssPeak = 0;
  const pssTimer = server.postmasterPid
    ? setInterval(() => {
        pssPeak = Math.max(pssPeak, treePss(server.postmasterPid!));
      }, 1_000)
    : undefined;
  try {
    log(`${mode}: ceiling 1 — raw single-row INSERT commits at concurrency ${o.concurrency}`);
    const insert = await insertCeiling(server, o.concurrency, o.insertCeilingMs);
    log(`${mode}:   ${Math.round(insert.commitsPerSecond)} commits/s`);
    log(`${mode}: ceiling 2 — bare DBOS workflow (3 parallel no-op steps) × ${o.ceilingWorkflows} at concurrency ${o.concurrency}`);
    const dbos = await dbosCeiling(server, { workflows: o.ceilingWorkflows, concurrency: o.concurrency, poolSize: 20, statsFlushMs: o.statsFlushMs });
    log(`${mode}:   ${Math.round(dbos.workflowsPerSecond)} workflows/s, ${dbos.commitsPerWorkflow.toFixed(1)} commits per workflow`);

    if (o.bus === 'nats') {
      // Fresh streams per mode, removed afterwards (a test prefix, so the cleanup may delete them).
      nats = { servers: o.emsEnv.EMS_NATS_URL ?? process.env.EMS_NATS_URL ?? 'nats://127.0.0.1:4222', prefix: `${TEST_NATS_PREFIX}bench_${mode.slice(0, 5)}_${randomBytes(4).toString('hex')}` };
    }
    let natsResult: NatsCeiling | null = null;
    if (nats) {
      log(`${mode}: ceiling 3 — JetStream publishes awaiting their ack at concurrency ${o.concurrency}`);
      natsResult = await natsCeiling(nats.servers, nats.prefix, o.concurrency, o.insertCeilingMs);
      log(`${mode}:   ${Math.round(natsResult.publishesPerSecond)} publishes/s`);
    }

    let smtpUrl: string | undefined;
    if (o.smtp === 'relay') {
      relay = spawnChild(path.join(import.meta.dirname, 'smtp-sink.child.ts'), process.env);
      smtpUrl = (await relay.next('ready', 30_000)).url;
    }

    const db = await server.createDatabase(`ems_${mode}`);
    const secretsKey = randomBytes(32);
    // Orchestration also measures its participants alone (ceiling 3), on employees of their own.
    // (each call kind alone on a sixth of them first, then all three on the other half)
    const participantsCases = mode === 'orchestration' && o.burstCases > 0 && !o.onlyTargets ? Math.min(o.burstCases, 1000) * 2 : 0;
    const resigners = o.burstCases + o.steadyCases + o.warmupCases + participantsCases;
    const { resigners: employees, org } = benchOrg({ resigners });
    log(`${mode}: starting EMS (${mode}, bus ${o.bus}) with ${resigners} resigning employees`);
    const t0 = performance.now();
    const logFile = path.join(tmpdir(), `ems-bench-${mode}-${process.pid}.log`);
    emsProcess = await startEmsProcess(
      {
        EMS_DATABASE_URL: db.url,
        EMS_MODE: mode,
        EMS_BUS: o.bus,
        ...(nats ? { EMS_NATS_URL: nats.servers, EMS_NATS_PREFIX: nats.prefix } : {}),
        ...(smtpUrl ? { EMS_SMTP_URL: smtpUrl } : {}),
        EMS_PORT: '0',
        EMS_LOG_LEVEL: 'warn',
        EMS_SEED: 'true',
        // Authentication on, as in a deployment: the built-in provider, its key known to this run only.
        EMS_SECRETS_KEY: secretsKey.toString('base64'),
        ...o.emsEnv,
      },
      resigners,
      logFile,
    );
    const startupMs = Math.round(performance.now() - t0);
    log(`${mode}:   up in ${startupMs} ms at ${emsProcess.url} (its log: ${logFile})`);

    // What EMS commits doing nothing (pollers), to take out of the per-case count.
    await sleep(o.statsFlushMs, o.signal);
    const idle0 = await dbCounters(server, db.name);
    await sleep(o.idleMs, o.signal);
    const idle1 = await dbCounters(server, db.name);
    const idleCommitsPerSecond = ((idle1.xactCommit - idle0.xactCommit) * 1000) / (idle1.at - idle0.at);
    log(`${mode}:   idle: ${idleCommitsPerSecond.toFixed(1)} commits/s`);
    // The load generator signs in (after the idle window: its sign-in is not EMS idling): an operator makes an
    // API token for it, acting as the HR lead.
    const creds = await loadCredentials(emsProcess.url);
    const orchestrator = orchestratorCredentials(emsProcess.url, createSecrets(secretsKey));

    const ctx: PhaseContext = {
      mode,
      o,
      server,
      db,
      ems: emsProcess,
      api: { url: emsProcess.url, headers: creds.load },
      orchestrator,
      idleCommitsPerSecond,
      profileDir,
      natsPid: nats ? natsServerPid(nats.servers) : undefined,
      natsPrefix: nats?.prefix,
      relayPid: relay?.pid,
    };
    if (!o.onlyTargets) log(`${mode}: what admitting a caller costs — GET /api/me with each credential against GET /healthz, ${o.checkRequests} requests each`);
    const checks = o.onlyTargets ? [] : await measureCheckCost(emsProcess.url, emsProcess.pid, creds, await browserSession(emsProcess.url, BENCH_HR_LEAD), o.checkRequests, o.concurrency);
    if (checks.length > 0) log(`${mode}:   ${checks.map((c) => `${c.label}: ${c.emsCpuUsPerRequest.toFixed(0)} µs CPU/request${c.checkCpuUsPerRequest === null ? '' : ` (+${c.checkCpuUsPerRequest.toFixed(0)})`}`).join('; ')}`);
    let participants: ParticipantsReport | null = null;
    if (participantsCases > 0) {
      log(`${mode}: ceiling 3 — the participants alone: each call kind alone, then all three calls per case, ${o.concurrency} cases in flight, no EMS case or workflow`);
      participants = await measureParticipants(ctx, org, employees.slice(o.burstCases + o.steadyCases + o.warmupCases));
      const each = PARTICIPANT_CALLS.map((c) => `${c} ${participants!.alone[c].casesPerSecond.toFixed(1)}/s`).join(', ');
      log(`${mode}:   alone: ${each}; all three: ${participants.casesPerSecond.toFixed(1)} cases/s; errors ${participants.errors}`);
    }
    if (o.warmupCases > 0) await warmUp(ctx, employees.slice(o.burstCases + o.steadyCases, o.burstCases + o.steadyCases + o.warmupCases));
    const phases: PhaseReport[] = [];
    if (o.burstCases > 0) phases.push(await runPhase(ctx, 'burst', employees.slice(0, o.burstCases)));
    if (o.steadyCases > 0) phases.push(await runPhase(ctx, 'steady', employees.slice(o.burstCases, o.burstCases + o.steadyCases)));

    const emsPeakRssBytes = emsProcess.peakRss() ?? null;
    const b = phases.find((p) => p.kind === 'burst');
    const burstToDbos = b?.casesPerSecond ? b.casesPerSecond / dbos.workflowsPerSecond : null;
    const errors = phases.reduce((n, p) => n + p.errors.non2xx + p.errors.failedSteps + p.errors.unsettled, 0) + checks.reduce((n, c) => n + c.errors, 0) + (participants ? participants.errors + PARTICIPANT_CALLS.reduce((k, c) => k + participants.alone[c].errors, 0) : 0);
    return {
      mode,
      bus: o.bus,
      postgres: { kind: server.kind, version: server.version },
      ceilings: { insert, dbos, nats: natsResult, participants },
      checks,
      startupMs,
      idleCommitsPerSecond,
      phases,
      memory: { emsPeakRssBytes, postgresPeakPssBytes: server.postmasterPid ? pssPeak || null : null },
      ratios: {
        burstToDbos,
        participantsToDbos: participants ? participants.casesPerSecond / dbos.workflowsPerSecond : null,
        burstToParticipants: b?.casesPerSecond && participants ? b.casesPerSecond / participants.casesPerSecond : null,
        burstToInsert: b?.casesPerSecond ? b.casesPerSecond / insert.commitsPerSecond : null,
        commitBudgetUsed: b?.casesPerSecond ? (b.casesPerSecond * b.commits.perCase) / insert.commitsPerSecond : null,
      },
      targets: targetsOf(mode, phases, burstToDbos),
      errors,
    };
  } catch (err) {
    const tail = emsProcess?.output().trim();
    if (err instanceof Error && tail) err.message += `\n--- the EMS process's last output ---\n${tail.split('\n').slice(-30).join('\n')}`;
    throw err;
  } finally {
    if (pssTimer) clearInterval(pssTimer);
    await emsProcess?.stop();
    await relay?.stop(5_000);
    const streams = nats;
    if (streams) await removeNatsStreams(streams.servers, streams.prefix).catch((err: unknown) => log(`${mode}: could not remove the NATS streams of ${streams.prefix}: ${String(err)}`));
    await server.stop();
  }
}

interface PhaseContext {
  mode: Mode;
  o: BenchOptions;
  server: BenchServer;
  db: { url: string; name: string };
  ems: EmsProcess;
  /** The public API as the load generator calls it (its credential). */
  api: Api;
  /** The orchestrator's credentials, for the participants-alone ceiling. */
  orchestrator: (target: 'notification' | 'hr' | 'access') => Promise<Record<string, string>>;
  idleCommitsPerSecond: number;
  profileDir: string | undefined;
  /** The nats-server EMS talks to, when it runs on this host. */
  natsPid: number | undefined;
  /** The NATS bus's prefix, when EMS runs on NATS (its outbox rows carry it). */
  natsPrefix: string | undefined;
  /** The SMTP relay process, when mail leaves the EMS process. */
  relayPid: number | undefined;
}

interface Snapshot {
  counters: DbCounters;
  rows: Record<string, number>;
  statements: Awaited<ReturnType<typeof statementCounts>>;
  emsCpu: number;
  emsSystemCpu: number;
  emsSwitches: ReturnType<typeof contextSwitches>;
  emsSyscalls: ReturnType<typeof syscalls>;
  pgCpu: ReturnType<typeof treeCpu> | undefined;
  natsCpu: number | undefined;
  relayCpu: number | undefined;
  clientCpu: NodeJS.CpuUsage;
  at: number;
}

async function snapshot(ctx: PhaseContext): Promise<Snapshot> {
  return {
    counters: await dbCounters(ctx.server, ctx.db.name),
    rows: await tupleWrites(ctx.db.url),
    statements: await statementCounts(ctx.server, ctx.db.name),
    emsCpu: cpuTimes(ctx.ems.pid)?.self ?? 0,
    emsSystemCpu: cpuTimes(ctx.ems.pid)?.system ?? 0,
    emsSwitches: contextSwitches(ctx.ems.pid),
    emsSyscalls: syscalls(ctx.ems.pid),
    pgCpu: ctx.server.postmasterPid ? treeCpu(ctx.server.postmasterPid) : undefined,
    natsCpu: ctx.natsPid ? cpuTimes(ctx.natsPid)?.self : undefined,
    relayCpu: ctx.relayPid ? cpuTimes(ctx.relayPid)?.self : undefined,
    clientCpu: process.cpuUsage(),
    at: performance.now(),
  };
}

/**
 * Ceiling 3 (see participants.ts): first each call kind alone (what one call costs), then all three
 * per case (the ceiling), each with its CPU and commits; the employees are split between the runs.
 */
async function measureParticipants(ctx: PhaseContext, org: ReturnType<typeof benchOrg>['org'], employees: string[]): Promise<ParticipantsReport> {
  const single = Math.floor(employees.length / 6);
  const alone = {} as Record<ParticipantCall, ParticipantsCost>;
  let from = 0;
  for (const call of PARTICIPANT_CALLS) {
    alone[call] = await measureCalls(ctx, org, employees.slice(from, from + single), [call]);
    from += single;
  }
  return { ...(await measureCalls(ctx, org, employees.slice(from), PARTICIPANT_CALLS)), alone };
}

async function measureCalls(ctx: PhaseContext, org: ReturnType<typeof benchOrg>['org'], employees: string[], calls: readonly ParticipantCall[]): Promise<ParticipantsCost> {
  const cases = await openInertCases(ctx.db.url, org, employees);
  const before = await snapshot(ctx);
  const result = await participantsCeiling(ctx.ems.url, cases, ctx.orchestrator, org, employees, ctx.o.concurrency, calls, ctx.o.signal);
  await sleep(ctx.o.statsFlushMs, ctx.o.signal);
  const after = await snapshot(ctx);
  const n = employees.length;
  const wallS = (after.at - before.at) / 1000;
  const commits = after.counters.xactCommit - before.counters.xactCommit - ctx.idleCommitsPerSecond * wallS;
  return {
    ...result,
    cpuMsPerCase: {
      // CPU readings are in seconds.
      ems: ((after.emsCpu - before.emsCpu) * 1000) / n,
      postgres: before.pgCpu && after.pgCpu ? (treeCpuDelta(before.pgCpu, after.pgCpu) * 1000) / n : null,
    },
    commitsPerCase: commits / n,
  };
}

/** Cases submitted and settled before anything is measured: the JIT, the pools and PostgreSQL's plan caches warm. */
async function warmUp(ctx: PhaseContext, employees: string[]): Promise<void> {
  const { o, mode } = ctx;
  (o.log ?? (() => undefined))(`${mode}: warm-up — ${employees.length} cases, ${o.concurrency} in flight, not measured`);
  const submissions = await burst(ctx.api, employees, o.concurrency, () => undefined, o.signal);
  const failed = submissions.filter((s) => s.status !== 201 && s.status !== 202);
  if (failed.length > 0) throw new Error(`warm-up: ${failed.length} submissions refused, e.g. ${failed[0]!.status} ${failed[0]!.error ?? ''}`);
  const settlement = await waitSettled(ctx.api, submissions.map((s) => s.id!), { timeoutMs: 120_000 + employees.length * 100, pollMs: o.pollMs, signal: o.signal });
  // Not fatal: on an overloaded machine the warm-up may outlast its wait; the phases then start warm enough.
  if (settlement.unsettled.length > 0) (o.log ?? (() => undefined))(`${mode}:   warm-up: ${settlement.unsettled.length} of ${employees.length} cases not settled within the wait; measuring anyway`);
  // Their trailing work (invites, webhooks) must not count toward the first phase.
  await quiesce(ctx, 'warm-up');
}

/** Waits until the commit rate is back near idle (trailing work done), at most quiesceMaxMs; how long it waited. */
async function quiesce(ctx: PhaseContext, label: string): Promise<number> {
  const { o, mode } = ctx;
  const progress = o.progress ?? (() => undefined);
  const q0 = performance.now();
  let last = await dbCounters(ctx.server, ctx.db.name);
  while (performance.now() - q0 < o.quiesceMaxMs) {
    await sleep(1_000, o.signal);
    const now = await dbCounters(ctx.server, ctx.db.name);
    const rate = ((now.xactCommit - last.xactCommit) * 1000) / (now.at - last.at);
    last = now;
    progress(`${mode} ${label}: settled; waiting for trailing work (${rate.toFixed(0)} commits/s, idle ${ctx.idleCommitsPerSecond.toFixed(0)})`);
    if (rate <= ctx.idleCommitsPerSecond * 1.3 + 3) break;
  }
  return performance.now() - q0;
}

async function runPhase(ctx: PhaseContext, kind: 'burst' | 'steady', employees: string[]): Promise<PhaseReport> {
  const { o, mode } = ctx;
  const progress = o.progress ?? (() => undefined);
  const log = o.log ?? (() => undefined);
  const n = employees.length;
  const label = kind === 'burst' ? `burst of ${n}, ${o.concurrency} in flight` : `steady ${o.rate}/s × ${n}`;
  log(`${mode}: ${label}`);

  const before = await snapshot(ctx);
  const profiler = ctx.profileDir ? await ctx.ems.profile(path.join(ctx.profileDir, `${mode}-${kind}.cpuprofile`)) : undefined;
  const loopWatch = await ctx.ems.watchLoop();
  let answered = 0;
  let inProgress = '?';
  const t0 = performance.now();
  const show = () => progress(`${mode} ${kind}: ${answered}/${n} submitted, in progress ${inProgress}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ticker = setInterval(show, 500);
  let submissions: Submission[];
  let achievedRate: number | null = null;
  let lateSends: number | null = null;
  try {
    const onAnswer = () => void answered++;
    if (kind === 'burst') {
      submissions = await burst(ctx.api, employees, o.concurrency, onAnswer, o.signal);
    } else {
      const r = await steady(ctx.api, employees, o.rate, onAnswer, o.signal);
      submissions = r.submissions;
      achievedRate = r.achievedRate;
      lateSends = r.lateSends;
    }
    const ids = submissions.flatMap((s) => (s.id ? [s.id] : []));
    const settlement = await waitSettled(ctx.api, ids, {
      timeoutMs: 120_000 + n * 100,
      pollMs: o.pollMs,
      signal: o.signal,
      onProgress: (p) => {
        inProgress = p;
        show();
      },
    });
    const durationMs = performance.now() - t0;
    const eventLoop = await loopWatch.stop();
    const profilePath = await profiler?.stop();
    // Kept for a closer look (Chrome DevTools → Performance → load profile).
    if (profilePath) log(`${mode}:   CPU profile of the EMS process: ${profilePath}`);

    // Trailing work (invites delivered, webhooks, decision-phase timers) counts toward the case's commits.
    const q0 = performance.now();
    await quiesce(ctx, kind);
    await sleep(o.statsFlushMs, o.signal);
    const quiesceMs = performance.now() - q0;
    const after = await snapshot(ctx);

    const bySent = new Map(submissions.map((s) => [s.id, s]));
    const cases = [...settlement.cases.values()];
    const stepAt = (c: ems.Resignation, s: 'notifyManager' | 'scheduleInterview' | 'suspendAccess') => (c.steps[s]?.at ? Date.parse(c.steps[s].at) : NaN);
    const allDoneAt = (c: ems.Resignation) => Math.max(stepAt(c, 'notifyManager'), stepAt(c, 'scheduleInterview'), stepAt(c, 'suspendAccess'));
    const since = (c: ems.Resignation, at: number) => at - bySent.get(c.id)!.sentAt;
    const failedSteps = cases.reduce((k, c) => k + (['notifyManager', 'scheduleInterview', 'suspendAccess'] as const).filter((s) => c.steps[s]?.status === 'failed').length, 0);
    const non2xx = submissions.filter((s) => s.status !== 201 && s.status !== 202);
    const answers: Record<string, number> = {};
    for (const s of submissions) answers[String(s.status)] = (answers[String(s.status)] ?? 0) + 1;
    const samples = [
      ...non2xx.slice(0, 3).map((s) => `POST ${s.employeeId}: ${s.status} ${s.error ?? ''}`.trim()),
      ...cases.filter((c) => Object.values(c.steps).some((s) => s?.status === 'failed')).slice(0, 3).map((c) => `case ${c.id}: ${JSON.stringify(c.steps)}`),
      ...settlement.unsettled.slice(0, 3).map((id) => `case ${id} not settled`),
    ];

    const done = cases.filter((c) => Number.isFinite(allDoneAt(c)));
    const stepDistribution = (s: 'notifyManager' | 'scheduleInterview' | 'suspendAccess') =>
      distribution(cases.filter((c) => c.steps[s]?.status === 'done').map((c) => since(c, stepAt(c, s))));
    const firstSent = Math.min(...submissions.map((s) => s.sentAt));
    const lastDone = Math.max(...done.map(allDoneAt));
    const wallS = (after.at - before.at) / 1000;
    const commitsTotal = after.counters.xactCommit - before.counters.xactCommit;
    const idleAdjusted = commitsTotal - ctx.idleCommitsPerSecond * wallS;
    const clientCpu = process.cpuUsage(before.clientCpu);
    const cpu = {
      ems: after.emsCpu - before.emsCpu,
      postgres: before.pgCpu && after.pgCpu ? treeCpuDelta(before.pgCpu, after.pgCpu) : null,
      nats: before.natsCpu !== undefined && after.natsCpu !== undefined ? after.natsCpu - before.natsCpu : null,
      mailRelay: before.relayCpu !== undefined && after.relayCpu !== undefined ? after.relayCpu - before.relayCpu : null,
      loadGenerator: (clientCpu.user + clientCpu.system) / 1e6,
    };
    const perCase = (x: number) => Math.round((x * 1000) / n) / 1000;
    const statements = statementDelta(before.statements, after.statements);
    const rows = Object.fromEntries(
      Object.entries(after.rows)
        .map(([schema, v]) => [schema, perCase(v - (before.rows[schema] ?? 0))] as const)
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]),
    );
    const report: PhaseReport = {
      kind,
      cases: n,
      concurrency: kind === 'burst' ? o.concurrency : null,
      rate: kind === 'steady' ? o.rate : null,
      achievedRate,
      lateSends,
      answers,
      errors: { non2xx: non2xx.length, failedSteps, unsettled: settlement.unsettled.length, samples },
      settledCases: done.length,
      casesPerSecond: kind === 'burst' && done.length > 0 ? (done.length * 1000) / (lastDone - firstSent) : null,
      latencyMs: {
        postAnswer: distribution(submissions.map((s) => s.answeredMs)),
        accessSuspended: distribution(cases.filter((c) => c.steps.suspendAccess.status === 'done').map((c) => since(c, stepAt(c, 'suspendAccess')))),
        allThreeDone: distribution(done.map((c) => since(c, allDoneAt(c)))),
        steps: {
          notifyManager: stepDistribution('notifyManager'),
          scheduleInterview: stepDistribution('scheduleInterview'),
          suspendAccess: stepDistribution('suspendAccess'),
        },
        holdStages: await holdStages(
          ctx.db.url,
          mode,
          cases.map((c) => ({ id: c.id, sentAt: bySent.get(c.id)!.sentAt, recordedAt: stepAt(c, 'suspendAccess') })),
          WORKFLOW_SCHEMA,
          mode === 'choreography' ? (ctx.natsPrefix ? { kind: 'outbox', schema: BUS_SCHEMA, prefix: ctx.natsPrefix } : { kind: 'jobs', schema: BUS_SCHEMA, queue: SUSPEND_ACCESS_SUBSCRIBER }) : undefined,
        ),
      },
      durationMs: Math.round(durationMs),
      quiesceMs: Math.round(quiesceMs),
      commits: { total: commitsTotal, idleAdjusted: Math.round(idleAdjusted), perCase: perCase(idleAdjusted), rollbacks: after.counters.xactRollback - before.counters.xactRollback },
      walBytesPerCase: ctx.server.kind === 'embedded' ? Math.round((after.counters.walBytes - before.counters.walBytes) / n) : null,
      rowsWrittenPerCase: rows,
      cpuMsPerCase: {
        ems: perCase(cpu.ems * 1000),
        postgres: cpu.postgres === null ? null : perCase(cpu.postgres * 1000),
        nats: cpu.nats === null ? null : perCase(cpu.nats * 1000),
        mailRelay: cpu.mailRelay === null ? null : perCase(cpu.mailRelay * 1000),
        loadGenerator: perCase(cpu.loadGenerator * 1000),
        emsAndPostgres: cpu.postgres === null ? null : perCase((cpu.ems + cpu.postgres) * 1000),
      },
      systemCpuMsPerCase: {
        ems: perCase((after.emsSystemCpu - before.emsSystemCpu) * 1000),
        postgres: before.pgCpu && after.pgCpu ? perCase(treeCpuDelta(before.pgCpu, after.pgCpu, 'system') * 1000) : null,
      },
      emsContextSwitchesPerCase:
        before.emsSwitches && after.emsSwitches
          ? { voluntary: perCase(after.emsSwitches.voluntary - before.emsSwitches.voluntary), involuntary: perCase(after.emsSwitches.involuntary - before.emsSwitches.involuntary) }
          : null,
      coresBusy: {
        ems: Math.round((cpu.ems / wallS) * 100) / 100,
        postgres: cpu.postgres === null ? null : Math.round((cpu.postgres / wallS) * 100) / 100,
        loadGenerator: Math.round((cpu.loadGenerator / wallS) * 100) / 100,
      },
      statementsTotalPerCase: ctx.server.statements ? perCase(statements.reduce((k, s) => k + s.calls, 0)) : null,
      statementsSentPerCase: ctx.server.statements ? perCase(statements.filter((s) => !isForeignKeyCheck(s.query)).reduce((k, s) => k + s.calls, 0)) : null,
      emsSyscallsPerCase:
        before.emsSyscalls && after.emsSyscalls
          ? { reads: perCase(after.emsSyscalls.reads - before.emsSyscalls.reads), writes: perCase(after.emsSyscalls.writes - before.emsSyscalls.writes) }
          : null,
      sqlPerCase: ctx.server.statements
        ? { plans: perCase(statements.reduce((k, s) => k + s.plans, 0)), planMs: perCase(statements.reduce((k, s) => k + s.planMs, 0)), execMs: perCase(statements.reduce((k, s) => k + s.execMs, 0)) }
        : null,
      statementsPerCase: statements
        .map((s) => ({ query: s.query.replace(/\s+/g, ' ').slice(0, 300), calls: perCase(s.calls), plans: perCase(s.plans), planMs: perCase(s.planMs), execMs: perCase(s.execMs) }))
        .filter((s) => s.calls >= 0.01),
      profile: profilePath ? await summarizeProfile(profilePath) : null,
      eventLoop,
    };
    log(
      `${mode}: ${kind} done in ${(report.durationMs / 1000).toFixed(1)} s` +
        (report.casesPerSecond ? `, ${report.casesPerSecond.toFixed(1)} cases/s` : '') +
        `, access suspended p99 ${report.latencyMs.accessSuspended.p99 ?? '–'} ms, ${report.commits.perCase} commits/case, errors ${non2xx.length + failedSteps + settlement.unsettled.length}`,
    );
    const st = report.latencyMs.holdStages;
    const p = (d: Distribution | null) => (d ? `${d.p50 ?? '–'}/${d.p99 ?? '–'}` : '–');
    const first = firstStages(st);
    const stages: Array<[string, Distribution | null]> = [...first, [first.length ? '→hold written' : 'sent→hold written', st.holdWritten], ['→recorded', st.recorded]];
    log(`${mode}:   hold stages p50/p99 ms: ${stages.map(([name, d]) => `${name} ${p(d)}`).join(', ')} (${st.cases} cases)`);
    log(`${mode}:   EMS event loop busy ${Math.round(eventLoop.utilization * 100)} %, a timer late p50/p99/max ${eventLoop.delayMs.p50}/${eventLoop.delayMs.p99}/${eventLoop.delayMs.max} ms`);
    return report;
  } finally {
    clearInterval(ticker);
  }
}
