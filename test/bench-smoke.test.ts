/**
 * The benchmark must not rot: a tiny run of `npm run bench`'s own code path (both modes, a burst and
 * a steady phase, both ceilings) on throwaway databases of the test server. It checks that the
 * report is complete and that every case settled without an error — never how fast anything was.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseBenchArgs, UsageError } from '../bench/options.ts';
import { runBench, type BenchReport } from '../bench/run-bench.ts';
import { toMarkdown, writeReport } from '../bench/report.ts';
import { checkNats, natsTestUrl } from '@ems/eventbus/testing';

// Decided when the file is collected, as the bus's own tests do: skip without NATS, fail with EMS_REQUIRE_SERVICES=1.
const nats = await checkNats();

describe('npm run bench options', () => {
  it('when no phase is named, then both run: the burst of --cases and 30 s worth of the steady rate, after a warm-up', () => {
    expect(parseBenchArgs([], {})).toMatchObject({ modes: ['orchestration', 'choreography'], bus: 'postgres', burstCases: 2000, steadyCases: 600, rate: 20, concurrency: 32, warmupCases: 40, smtp: 'relay' });
    expect(parseBenchArgs(['--warmup', '0', '--label', 'lean-before'], {})).toMatchObject({ warmupCases: 0, label: 'lean-before' });
  });

  it('when --burst or --rate is given alone, then only that phase runs, with --cases cases', () => {
    expect(parseBenchArgs(['--burst', '--cases', '300'], {})).toMatchObject({ burstCases: 300, steadyCases: 0 });
    expect(parseBenchArgs(['--rate', '20', '--cases', '300', '--mode', 'choreography'], {})).toMatchObject({ modes: ['choreography'], burstCases: 0, steadyCases: 300, rate: 20 });
  });

  it('when EMS_DATABASE_URL is set, then the runs use throwaway databases on that server', () => {
    expect(parseBenchArgs([], { EMS_DATABASE_URL: 'postgres://u@h:5432/x' }).serverUrl).toBe('postgres://u@h:5432/x');
    expect(parseBenchArgs([], {}).serverUrl).toBeUndefined();
  });

  it.each([[['--mode', 'both-ish']], [['--bus', 'kafka']], [['--cases', '0']], [['--rate', '-1']], [['--env', 'PATH=/x']], [['--smtp', 'mars']], [['--label', '../x']], [['--warmup', '-3']], [['--nope']]])(
    'when the options are %j, then the benchmark refuses them with a usage error',
    (argv) => {
      expect(() => parseBenchArgs(argv, {})).toThrow(UsageError);
    },
  );
});

describe('benchmark smoke run', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('when the benchmark runs 5 cases as a burst and 5 at 5/s in both modes, then every case settles without an error and the report has every figure', async () => {
    const parsed = parseBenchArgs(['--cases', '5', '--burst', '--rate', '5', '--concurrency', '4'], {});
    const { out: _out, json: _json, ...fromCli } = parsed;
    // Where the time went, should this test ever get slow.
    const timeline: string[] = [];
    const t0 = performance.now();
    const report: BenchReport = await runBench({
      ...fromCli,
      serverUrl: inject('testServerUrl'),
      // Small ceilings and short waits: this checks the path, not the numbers.
      insertCeilingMs: 300,
      checkRequests: 50,
      ceilingWorkflows: 10,
      warmupCases: 2,
      // The idle commit rate is subtracted over each phase's whole window (≥ 11 s: the counters' flush), so it is
      // measured as the benchmark measures it: over 300 ms it caught 0 to 2 poller rounds, was once off by 20
      // commits/s and turned a 5-case phase's commits negative (a README run, stop 49).
      idleMs: 3_000,
      quiesceMaxMs: 0,
      pollMs: 200,
      log: (line) => timeline.push(`${((performance.now() - t0) / 1000).toFixed(1)} s ${line}`),
    });

    if (performance.now() - t0 > 60_000) console.log(`the smoke run took over a minute:\n${timeline.join('\n')}`);
    expect(report.errors).toBe(0);
    expect(report.modes.map((m) => m.mode)).toEqual(['orchestration', 'choreography']);
    for (const m of report.modes) {
      expect(m.errors, `${m.mode}: ${JSON.stringify(m.phases.map((p) => p.errors))}`).toBe(0);
      expect(m.ceilings.insert.commitsPerSecond).toBeGreaterThan(0);
      expect(m.ceilings.dbos.workflowsPerSecond).toBeGreaterThan(0);
      expect(m.ceilings.dbos.commitsPerWorkflow).toBeGreaterThan(0);
      expect(m.ceilings.nats).toBeNull();
      expect(m.ratios.burstToDbos).toBeGreaterThan(0);
      expect(m.ratios.commitBudgetUsed).toBeGreaterThan(0);
      expect(m.memory.emsPeakRssBytes).toBeGreaterThan(0);
      expect(m.phases.map((p) => p.kind)).toEqual(['burst', 'steady']);
      for (const p of m.phases) {
        expect(p.cases).toBe(5);
        expect(p.answers).toEqual({ '201': 5 });
        expect(p.errors).toMatchObject({ non2xx: 0, failedSteps: 0, unsettled: 0 });
        // Every case's three steps are timed from its POST.
        expect(p.latencyMs.accessSuspended.count).toBe(5);
        expect(p.latencyMs.allThreeDone.count).toBe(5);
        expect(p.latencyMs.allThreeDone.p99).toBeGreaterThanOrEqual(p.latencyMs.accessSuspended.p50!);
        expect(p.commits.total).toBeGreaterThan(0);
        expect(Number.isFinite(p.commits.perCase)).toBe(true);
        expect(Object.keys(p.rowsWrittenPerCase)).toEqual(expect.arrayContaining(['ems', 'hr', 'access', 'notification']));
        expect(p.cpuMsPerCase.ems).toBeGreaterThan(0);
        // The kernel's part of that CPU (stime), never more than the whole; the event loop's thread switched at least once per case (it waits for answers).
        expect(p.systemCpuMsPerCase.ems).toBeGreaterThanOrEqual(0);
        expect(p.systemCpuMsPerCase.ems).toBeLessThanOrEqual(p.cpuMsPerCase.ems);
        expect(p.systemCpuMsPerCase.postgres === null).toBe(p.cpuMsPerCase.postgres === null); // an external server: neither
        expect(p.emsContextSwitchesPerCase!.voluntary + p.emsContextSwitchesPerCase!.involuntary).toBeGreaterThanOrEqual(1);
        // The EMS process's event loop over the phase: a share of the time, and how late a timer ran.
        expect(p.eventLoop.utilization).toBeGreaterThan(0);
        expect(p.eventLoop.utilization).toBeLessThanOrEqual(1);
        expect(p.eventLoop.delayMs.p99).toBeGreaterThanOrEqual(p.eventLoop.delayMs.p50);
        expect(p.eventLoop.delayMs.max).toBeGreaterThanOrEqual(p.eventLoop.delayMs.p99);
      }
      expect(m.phases[0]!.casesPerSecond).toBeGreaterThan(0);
      expect(m.phases[1]!.achievedRate).toBeGreaterThan(0);
    }
    // Orchestration also measures its participants alone, on employees of their own, with what they cost.
    const participants = report.modes[0]!.ceilings.participants;
    expect(participants).toMatchObject({ cases: 7, errors: 0, calls: ['notice', 'interview', 'hold'] });
    // …and each call kind alone (the smoke run's 10 participant employees: 1 each, then 7 with all three).
    for (const call of ['notice', 'interview', 'hold'] as const) {
      expect(participants!.alone[call]).toMatchObject({ calls: [call], cases: 1, errors: 0 });
      // One call can take less than a clock tick of CPU (10 ms): a reading, not necessarily above zero.
      expect(participants!.alone[call].cpuMsPerCase.ems).toBeGreaterThanOrEqual(0);
      expect(participants!.alone[call].casesPerSecond).toBeGreaterThan(0);
    }
    expect(participants!.casesPerSecond).toBeGreaterThan(0);
    // What admitting a caller costs, with every credential a deployment uses, against the public request.
    for (const m of report.modes) {
      expect(m.checks.map((c) => c.label)).toEqual([expect.stringContaining('/healthz'), expect.stringContaining('JWT'), expect.stringContaining('API token'), expect.stringContaining('session')]);
      for (const c of m.checks) expect(c).toMatchObject({ requests: 50, errors: 0 });
      expect(m.checks[0]!.checkCpuUsPerRequest).toBeNull();
      for (const c of m.checks.slice(1)) expect(typeof c.checkCpuUsPerRequest).toBe('number');
    }
    expect(participants!.cpuMsPerCase.ems).toBeGreaterThan(0);
    expect(report.modes[0]!.ratios.participantsToDbos).toBeGreaterThan(0);
    expect(report.modes[0]!.ratios.burstToParticipants).toBeGreaterThan(0);
    expect(report.modes[1]!.ceilings.participants).toBeNull();
    // Orchestration runs the case in DBOS; choreography never touches it.
    expect(report.modes[0]!.phases[0]!.rowsWrittenPerCase.dbos).toBeGreaterThan(0);
    expect(report.modes[1]!.phases[0]!.rowsWrittenPerCase.dbos).toBeUndefined();

    const dir = await mkdtemp(path.join(tmpdir(), 'ems-bench-results-'));
    dirs.push(dir);
    const written = await writeReport(report, dir, path.join(dir, 'extra', 'report.json'));
    expect(written.map((f) => path.basename(f))).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d-]+Z-both\.md$/), expect.stringMatching(/-both\.json$/), 'latest.md', 'report.json']);
    const md = await readFile(path.join(dir, 'latest.md'), 'utf8');
    expect(md).toBe(toMarkdown(report));
    expect(md).toMatch(/\| \| orchestration \| choreography \|/);
    expect(md).toContain('What admitting a caller costs');
    expect(md).toMatch(/\| EMS event loop busy; a timer late p50 \/ p99 \/ max ms \(burst \/ steady\) \| \d+ %; [\d.]+ \/ [\d.]+ \/ \d+ · \d+ %;/);
    expect(md).toContain('submit → critical access suspended');
    expect(md).toMatch(/\| EMS main thread's context switches per case: waited \/ preempted \(burst\) \| [\d.]+ \/ [\d.]+ \|/);
    expect(md).toContain('÷ bare DBOS workflows/s');
    expect(md).toContain('the participants alone');
    // Issue 15's targets, each with this run's figure (the smoke run is on an external server: no CPU of PostgreSQL there).
    for (const m of report.modes) expect(m.targets.map((t) => t.name)).toEqual([expect.stringContaining('CPU'), expect.stringContaining('DBOS'), expect.stringContaining('commits'), expect.stringContaining('(burst)'), expect.stringContaining('(steady 20/s)')]);
    expect(report.modes[0]!.targets[1]!.value).toBe(report.modes[0]!.ratios.burstToDbos);
    expect(md).toContain("Issue 15's targets");
    expect(JSON.parse(await readFile(path.join(dir, 'extra', 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
  }, 360_000); // each final counter waits 11 s for the backends to publish (bench/ceilings.ts STATS_FLUSH_MS)

  it.skipIf(nats.skip)('when the bus is NATS, then a choreography run settles every case without an error and reports the JetStream ceiling', async () => {
    nats.assertAvailable();
    const { out: _out, json: _json, ...fromCli } = parseBenchArgs(['--mode', 'choreography', '--bus', 'nats', '--cases', '3', '--burst', '--rate', '5', '--concurrency', '4'], {});
    const report = await runBench({
      ...fromCli,
      serverUrl: inject('testServerUrl'),
      emsEnv: { EMS_NATS_URL: natsTestUrl() },
      insertCeilingMs: 300,
      checkRequests: 50,
      ceilingWorkflows: 10,
      idleMs: 300,
      quiesceMaxMs: 0,
      pollMs: 200,
    });
    expect(report.errors).toBe(0);
    const [m] = report.modes;
    expect(m).toMatchObject({ mode: 'choreography', bus: 'nats', errors: 0 });
    expect(m!.ceilings.nats!.publishesPerSecond).toBeGreaterThan(0);
    for (const p of m!.phases) {
      expect(p.answers).toEqual({ '201': 3 });
      expect(p.latencyMs.allThreeDone.count).toBe(3);
    }
    expect(toMarkdown(report)).toContain('JetStream publishes acked/s');
  }, 120_000);
});
