import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Distribution } from './stats.ts';
import type { BenchReport, ModeReport, ParticipantsCost, PhaseReport, Target } from './run-bench.ts';
import { PARTICIPANT_CALLS } from './participants.ts';
import { firstStages } from './stages.ts';

/** The report as markdown: one column per mode, ratios to the ceilings first. */

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const mib = (b: number | null) => (b === null ? '–' : `${Math.round(b / 2 ** 20)} MiB`);
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 100)} %`);
const dist = (d: Distribution, keys: Array<'p50' | 'p95' | 'p99' | 'max'> = ['p50', 'p95', 'p99']) => (d.count === 0 ? '–' : keys.map((k) => fmt(d[k])).join(' / '));

export function toMarkdown(r: BenchReport): string {
  const m = r.modes;
  const burst = (x: ModeReport) => x.phases.find((p) => p.kind === 'burst');
  const steady = (x: ModeReport) => x.phases.find((p) => p.kind === 'steady');
  const rows: Array<[string, (x: ModeReport) => string]> = [];
  const anyBurst = m.some(burst);
  const anySteady = m.some(steady);
  const b0 = m.map(burst).find(Boolean);
  const s0 = m.map(steady).find(Boolean);
  /** The phase the per-case rows describe: the burst, or the steady phase when there is no burst. */
  const first = anyBurst ? 'burst' : 'steady';

  if (anyBurst) {
    rows.push([`**Burst** — ${b0!.cases} resignations, ${b0!.concurrency} in flight`, () => '']);
    rows.push(['cases/s (N ÷ first POST → last step done)', (x) => casesPerSecond(burst(x))]);
    rows.push(['**÷ bare DBOS workflows/s** (same run)', (x) => fmt(x.ratios.burstToDbos, 2)]);
    if (m.some((x) => x.ceilings.participants)) rows.push(['÷ its participants alone (ceiling 3, same run)', (x) => fmt(x.ratios.burstToParticipants, 2)]);
    rows.push(['÷ raw INSERT commits/s (same run)', (x) => fmt(x.ratios.burstToInsert, 3)]);
    rows.push(['commit budget used (cases/s × commits/case ÷ raw commits/s)', (x) => pct(x.ratios.commitBudgetUsed)]);
    rows.push(['**submit → critical access suspended**, p50 / p95 / p99 ms', (x) => (burst(x) ? dist(burst(x)!.latencyMs.accessSuspended) : '–')]);
    rows.push(['submit → all three done, p50 / p95 / p99 ms', (x) => (burst(x) ? dist(burst(x)!.latencyMs.allThreeDone) : '–')]);
    rows.push(['submit → each step done, p50 ms: manager notified / interview / access', (x) => (burst(x) ? perStep(burst(x)!) : '–')]);
    rows.push(['… access suspended by stage, p50 / p99 ms: sent → workflow row (choreography: bus job created; NATS: outbox row) → step started (job started; relay picked it; orchestration since resignation-v7: no step) → hold written → recorded', (x) => (burst(x) ? holdStages(burst(x)!) : '–')]);
  }
  if (anySteady) {
    rows.push([`**Steady** — ${s0!.rate}/s for ${s0!.cases} resignations`, () => '']);
    rows.push(['achieved rate /s (late sends)', (x) => (steady(x) ? `${fmt(steady(x)!.achievedRate, 1)} (${steady(x)!.lateSends})` : '–')]);
    rows.push(['**submit → critical access suspended**, p50 / p95 / p99 ms', (x) => (steady(x) ? dist(steady(x)!.latencyMs.accessSuspended) : '–')]);
    rows.push(['submit → all three steps done, p50 / p95 / p99 ms', (x) => (steady(x) ? dist(steady(x)!.latencyMs.allThreeDone) : '–')]);
    rows.push(['submit → each step done, p99 ms: manager notified / interview / access', (x) => (steady(x) ? perStep(steady(x)!, 'p99') : '–')]);
    rows.push(['POST answered, p50 / p95 / p99 ms', (x) => (steady(x) ? dist(steady(x)!.latencyMs.postAnswer) : '–')]);
  }
  rows.push(['**PostgreSQL**', () => '']);
  rows.push(['commits per case (burst / steady; idle pollers subtracted)', (x) => `${fmt(burst(x)?.commits.perCase, 1)} / ${fmt(steady(x)?.commits.perCase, 1)}`]);
  rows.push(['idle commits/s (pollers)', (x) => fmt(x.idleCommitsPerSecond, 1)]);
  rows.push([`SQL statements per case, BEGIN/COMMIT included (${first})`, (x) => fmt((burst(x) ?? steady(x))?.statementsTotalPerCase, 1)]);
  rows.push([`… of them sent by EMS (without the foreign-key checks PostgreSQL runs at COMMIT) (${first})`, (x) => fmt((burst(x) ?? steady(x))?.statementsSentPerCase, 1)]);
  rows.push([`write / read system calls of the EMS process per case (${first})`, (x) => {
    const c = (burst(x) ?? steady(x))?.emsSyscallsPerCase;
    return c ? `${fmt(c.writes, 1)} / ${fmt(c.reads, 1)}` : '–';
  }]);
  rows.push([`PostgreSQL planning / executing, ms per case; plans per case (${first})`, (x) => sqlTime(burst(x) ?? steady(x))]);
  rows.push([`WAL per case (${first})`, (x) => wal(burst(x) ?? steady(x))]);
  rows.push([`rows written per case by schema (${first})`, (x) => rowsBySchema(burst(x) ?? steady(x))]);
  rows.push(['**Processes**', () => '']);
  rows.push(['peak RSS of the EMS process', (x) => mib(x.memory.emsPeakRssBytes)]);
  rows.push(['peak PSS of PostgreSQL (all its processes)', (x) => mib(x.memory.postgresPeakPssBytes)]);
  rows.push([`**CPU ms per case, EMS + PostgreSQL** (${first})`, (x) => fmt((burst(x) ?? steady(x))?.cpuMsPerCase.emsAndPostgres, 1)]);
  rows.push([`CPU ms per case, EMS / PostgreSQL / load generator (${first})`, (x) => cpuPerCase(burst(x) ?? steady(x))]);
  if (m.some((x) => x.bus === 'nats')) rows.push([`CPU ms per case, nats-server (${first}; the server may be shared)`, (x) => fmt((burst(x) ?? steady(x))?.cpuMsPerCase.nats, 1)]);
  rows.push([`… of it in the kernel (system time), EMS / PostgreSQL (${first})`, (x) => systemCpu(burst(x) ?? steady(x))]);
  rows.push([`EMS main thread's context switches per case: waited / preempted (${first})`, (x) => switches(burst(x) ?? steady(x))]);
  rows.push([`cores busy, EMS / PostgreSQL (${first})`, (x) => cores(burst(x) ?? steady(x))]);
  rows.push(['EMS event loop busy; a timer late p50 / p99 / max ms (burst / steady)', (x) => [burst(x), steady(x)].map(eventLoop).join(' · ')]);
  rows.push(['EMS start-up incl. seeding, ms', (x) => fmt(x.startupMs)]);
  rows.push(['**errors** (non-2xx, failed steps, unsettled cases)', (x) => `**${x.errors}**`]);
  rows.push(['**Ceilings**, measured in the same run on the same PostgreSQL (and NATS)', () => '']);
  rows.push([`raw single-row INSERT commits/s @ ${m[0]?.ceilings.insert.concurrency ?? '?'} connections`, (x) => fmt(x.ceilings.insert.commitsPerSecond)]);
  rows.push([
    `bare DBOS workflows/s (3 parallel no-op steps) @ ${m[0]?.ceilings.dbos.concurrency ?? '?'}, commits per workflow`,
    (x) => `${fmt(x.ceilings.dbos.workflowsPerSecond)} (${fmt(x.ceilings.dbos.commitsPerWorkflow, 1)})`,
  ]);
  if (m.some((x) => x.ceilings.participants)) {
    const p0 = m.find((x) => x.ceilings.participants)!.ceilings.participants!;
    rows.push([
      `the participants alone: the workflow's 3 calls per case sent straight to them, ${p0.cases} cases @ ${p0.concurrency} — cases/s (**÷ bare DBOS**)`,
      (x) => (x.ceilings.participants ? `${fmt(x.ceilings.participants.casesPerSecond, 1)} (**${fmt(x.ratios.participantsToDbos, 2)}**)` : '–'),
    ]);
    rows.push([
      '… CPU ms per case EMS process / PostgreSQL, commits per case',
      (x) => {
        const c = x.ceilings.participants;
        return c ? `${fmt(c.cpuMsPerCase.ems, 1)} / ${fmt(c.cpuMsPerCase.postgres, 1)}, ${fmt(c.commitsPerCase, 1)}` : '–';
      },
    ]);
    const alone = (x: ModeReport, f: (c: ParticipantsCost) => string) => {
      const a = x.ceilings.participants?.alone;
      return a ? PARTICIPANT_CALLS.map((k) => f(a[k])).join(' · ') : '–';
    };
    rows.push([
      '… each call alone (manager notice delivered · interview with its 2 invites · hold): calls/s',
      (x) => alone(x, (c) => fmt(c.casesPerSecond, 1)),
    ]);
    rows.push(['… each call alone: CPU ms per call, EMS process / PostgreSQL', (x) => alone(x, (c) => `${fmt(c.cpuMsPerCase.ems, 1)} / ${fmt(c.cpuMsPerCase.postgres, 1)}`)]);
    rows.push(['… each call alone: commits per call', (x) => alone(x, (c) => fmt(c.commitsPerCase, 1))]);
  }
  if (m.some((x) => x.ceilings.nats)) {
    rows.push([`JetStream publishes acked/s @ ${m[0]?.ceilings.insert.concurrency ?? '?'} (file storage, 500 B)`, (x) => fmt(x.ceilings.nats?.publishesPerSecond)]);
  }

  const lines = [
    `# EMS benchmark — ${r.startedAt.slice(0, 19).replace('T', ' ')} UTC`,
    '',
    `\`${r.command}\``,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${mib(r.machine.memoryBytes)}, Node ${r.machine.node}, PostgreSQL ${m[0]?.postgres.version ?? '?'} (${m[0]?.postgres.kind ?? '?'}), bus ${m[0]?.bus ?? '?'}, ` +
      `mail to ${r.options.smtp === 'relay' ? 'an SMTP relay in its own process' : "EMS's built-in capture server (in the EMS process)"}; ` +
      `load average ${r.machine.loadAverageStart.map((x) => x.toFixed(2)).join(' ')} at start, ${r.machine.loadAverageEnd.map((x) => x.toFixed(2)).join(' ')} at end.`,
    '',
    `Clock: ${r.clock}.`,
    '',
    ...targetsTable(m),
    `| | ${m.map((x) => x.mode).join(' | ')} |`,
    `|---|${m.map(() => '---:').join('|')}|`,
    ...rows.map(([label, f]) => `| ${label} | ${m.map(f).join(' | ')} |`),
  ];
  // What admitting a caller costs: the same trivial request with each credential, against one with no check.
  if (m.some((x) => x.checks.length)) {
    const labels = m.find((x) => x.checks.length)!.checks.map((c) => c.label);
    const cell = (x: ModeReport, label: string) => {
      const c = x.checks.find((k) => k.label === label);
      if (!c) return '–';
      return `${fmt(c.emsCpuUsPerRequest)} µs${c.checkCpuUsPerRequest === null ? '' : ` (**+${fmt(c.checkCpuUsPerRequest)}**)`} · ${fmt(c.requestsPerSecond)}/s${c.errors ? ` · ${c.errors} errors` : ''}`;
    };
    lines.push(
      '',
      `**What admitting a caller costs** (EMS process CPU per request, in brackets the difference to the request with no check; requests/s at ${r.options.concurrency} in flight; ${m[0]?.checks[0]?.requests ?? '?'} requests each, the better of two alternated rounds):`,
      '',
      `| request | ${m.map((x) => x.mode).join(' | ')} |`,
      `|---|${m.map(() => '---:').join('|')}|`,
      ...labels.map((label) => `| ${label} | ${m.map((x) => cell(x, label)).join(' | ')} |`),
    );
  }
  for (const x of m) {
    const c = x.ceilings.participants;
    if (c && c.errorSamples.length > 0) lines.push('', `**Errors, ${x.mode} participants alone:**`, '', ...c.errorSamples.map((s) => `- \`${s.slice(0, 300)}\``));
    for (const p of x.phases) lines.push(...errorSamples(x, p), ...profileSection(x, p));
  }
  return lines.join('\n') + '\n';
}

/** Issue 15's targets first: each mode's figure, its target, met or not. */
function targetsTable(m: ModeReport[]): string[] {
  if (!m.some((x) => x.targets?.length)) return [];
  const names = m.find((x) => x.targets.length)!.targets.map((t) => t.name);
  const cell = (t: Target | undefined) => {
    if (!t) return '–';
    const v = t.value === null ? '–' : `${fmt(t.value, t.unit === '×' ? 2 : t.unit === 'ms' && t.value < 100 ? 1 : 0)}${t.unit === '×' || t.unit === '' ? '' : ` ${t.unit}`}`;
    const mark = t.met === null ? '' : t.met ? ' ✅' : ' ❌';
    return `${v} (${t.kind === 'max' ? '≤' : '≥'} ${t.limit}${t.unit === 'ms' ? ' ms' : ''})${mark}${t.note ? ` — ${t.note}` : ''}`;
  };
  return [
    "**Issue 15's targets** (figure of this run; target in brackets; ratios to the ceiling measured in the same run):",
    '',
    `| target | ${m.map((x) => x.mode).join(' | ')} |`,
    `|---|${m.map(() => '---:').join('|')}|`,
    ...names.map((name) => `| ${name} | ${m.map((x) => cell(x.targets.find((t) => t.name === name))).join(' | ')} |`),
    '',
  ];
}

function sqlTime(p: PhaseReport | undefined): string {
  const s = p?.sqlPerCase;
  return s ? `${fmt(s.planMs, 2)} / ${fmt(s.execMs, 2)}; ${fmt(s.plans, 1)}` : '–';
}

function casesPerSecond(p: PhaseReport | undefined): string {
  if (!p) return '–';
  const rate = fmt(p.casesPerSecond, 1);
  return p.settledCases === p.cases ? rate : `${rate} (only ${p.settledCases} of ${p.cases} done)`;
}

function perStep(p: PhaseReport, q: 'p50' | 'p99' = 'p50'): string {
  const s = p.latencyMs.steps;
  return [s.notifyManager, s.scheduleInterview, s.suspendAccess].map((d) => fmt(d[q])).join(' / ');
}

/**
 * Each stage's p50 / p99 (stages.ts). Choreography has no workflow row and no step: on the PostgreSQL bus
 * its first two stages are the bus job's (sent → job created → job started), on NATS the outbox row's
 * (sent → row written → relay picked it).
 */
function holdStages(p: PhaseReport): string {
  const st = p.latencyMs.holdStages as PhaseReport['latencyMs']['holdStages'] | undefined; // absent from reports before it was measured
  if (!st) return '–';
  const d = (x: Distribution | null) => (x ? `${fmt(x.p50)} / ${fmt(x.p99)}` : '–');
  const first = firstStages(st).map(([, ms]) => ms);
  return [...(first.length ? first : [null, null]), st.holdWritten, st.recorded].map(d).join(' → ');
}

/** What the EMS process's event loop did during the phase (absent from reports before it was measured). */
function eventLoop(p: PhaseReport | undefined): string {
  const l = p?.eventLoop;
  return l ? `${pct(l.utilization)}; ${fmt(l.delayMs.p50, 1)} / ${fmt(l.delayMs.p99, 1)} / ${fmt(l.delayMs.max)}` : '–';
}

function wal(p: PhaseReport | undefined): string {
  return p?.walBytesPerCase ? `${fmt(p.walBytesPerCase / 1024, 1)} KiB` : '–';
}

function rowsBySchema(p: PhaseReport | undefined): string {
  if (!p) return '–';
  return Object.entries(p.rowsWrittenPerCase)
    .map(([s, v]) => `${s} ${fmt(v, 1)}`)
    .join(', ');
}

function cpuPerCase(p: PhaseReport | undefined): string {
  if (!p) return '–';
  return `${fmt(p.cpuMsPerCase.ems, 1)} / ${fmt(p.cpuMsPerCase.postgres, 1)} / ${fmt(p.cpuMsPerCase.loadGenerator, 1)}`;
}

function systemCpu(p: PhaseReport | undefined): string {
  // Results written before the split existed have no systemCpuMsPerCase.
  const s = p?.systemCpuMsPerCase;
  return s ? `${fmt(s.ems, 1)} / ${fmt(s.postgres, 1)}` : '–';
}

function switches(p: PhaseReport | undefined): string {
  const c = p?.emsContextSwitchesPerCase;
  return c ? `${fmt(c.voluntary, 1)} / ${fmt(c.involuntary, 1)}` : '–';
}

function cores(p: PhaseReport | undefined): string {
  if (!p) return '–';
  return `${fmt(p.coresBusy.ems, 2)} / ${fmt(p.coresBusy.postgres, 2)}`;
}

function errorSamples(m: ModeReport, p: PhaseReport): string[] {
  if (p.errors.samples.length === 0) return [];
  return ['', `**Errors, ${m.mode} ${p.kind}:**`, '', ...p.errors.samples.map((s) => `- \`${s.slice(0, 300)}\``)];
}

function profileSection(m: ModeReport, p: PhaseReport): string[] {
  const out: string[] = [];
  if (p.profile) {
    out.push('', `### Profile: ${m.mode}, ${p.kind} — EMS main thread busy ${pct(p.profile.busyShare)} of ${fmt(p.profile.wallMs / 1000, 1)} s`, '');
    // A sample is taken when the thread runs again: the time it waited for a core after being preempted lands on the
    // frame it was preempted in — mostly the socket write that woke PostgreSQL's backend.
    const c = p.emsContextSwitchesPerCase;
    out.push(
      `Samples are wall-clock time, not CPU: a thread preempted while it had work (${c ? `${fmt(c.involuntary, 1)} times per case here` : 'see the context switches above'}) is sampled, when it runs again, at the frame it was preempted in — mostly \`writev\` / \`writeBuffer\`, the write that woke a PostgreSQL backend. Their share is waiting for a core; the system time above is what the kernel really spent.`,
      '',
    );
    out.push('| self time by component | ms | share |', '|---|---:|---:|');
    out.push(...p.profile.components.map((c) => `| ${c.name} | ${c.ms} | ${pct(c.share)} |`));
    out.push('', '| self time by function | ms | share |', '|---|---:|---:|');
    out.push(...p.profile.functions.map((c) => `| \`${c.name}\` | ${c.ms} | ${pct(c.share)} |`));
  }
  if (p.statementsPerCase.length > 0) {
    out.push('', `### Statements per case: ${m.mode}, ${p.kind} — ${fmt(p.statementsTotalPerCase, 1)} in all (pg_stat_statements, top ${Math.min(25, p.statementsPerCase.length)}; every one in the JSON)`, '');
    const execMs = p.statementsPerCase.reduce((t, s) => t + s.execMs, 0);
    const planMs = p.statementsPerCase.reduce((t, s) => t + (s.planMs ?? 0), 0);
    out.push(`Per case in all: planning ${fmt(planMs, 2)} ms, execution ${fmt(execMs, 2)} ms (total_plan_time, total_exec_time: parsing and commits not included).`, '');
    out.push('| calls/case | plans/case | plan ms/case | exec ms/case | statement |', '|---:|---:|---:|---:|---|');
    out.push(
      ...p.statementsPerCase
        .slice(0, 25)
        .map((s) => `| ${fmt(s.calls, 2)} | ${fmt(s.plans, 2)} | ${fmt(s.planMs, 2)} | ${fmt(s.execMs, 2)} | \`${s.query.replaceAll('|', '\\|').slice(0, 160)}\` |`),
    );
  }
  return out;
}

/** bench/results/<timestamp>-<label or mode>.{md,json} and bench/results/latest.md; the paths written. */
export async function writeReport(report: BenchReport, dir: string, jsonFile?: string, label?: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const mode = report.modes.length === 1 ? report.modes[0]!.mode : 'both';
  const base = path.join(dir, `${stamp}-${label ?? mode}`);
  const md = toMarkdown(report);
  const json = JSON.stringify(report, null, 2) + '\n';
  const written = [`${base}.md`, `${base}.json`, path.join(dir, 'latest.md')];
  await writeFile(`${base}.md`, md);
  await writeFile(`${base}.json`, json);
  await writeFile(path.join(dir, 'latest.md'), md);
  if (jsonFile) {
    await mkdir(path.dirname(path.resolve(jsonFile)), { recursive: true });
    await writeFile(jsonFile, json);
    written.push(jsonFile);
  }
  return written;
}
