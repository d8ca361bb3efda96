import { parseArgs } from 'node:util';
import type { BenchOptions, Mode } from './run-bench.ts';
import { STATS_FLUSH_MS } from './ceilings.ts';

export const USAGE = `npm run bench -- [--mode orchestration|choreography|both] [--bus postgres|nats] [--cases N]
                 [--rate R | --burst] [--steady-cases M] [--concurrency C] [--warmup W] [--json FILE]
                 [--out DIR] [--label L] [--only-targets] [--profile] [--smtp relay|capture] [--env EMS_KEY=value ...] [--help]

  --mode          which coordination mode(s) to measure (default both), each on a fresh PostgreSQL
  --bus           event bus adapter (default postgres)
  --cases N       resignations of the burst (default 2000); of the steady phase too with --rate alone
  --burst         only the burst: N submissions, C in flight, until every case has its three steps
  --rate R        only the steady phase: submissions at R per second (open loop); without --burst
                  or --rate both phases run, steady at 20/s (issue 15's target rate) for min(N, 30 s worth)
  --steady-cases  resignations of the steady phase (overrides the above)
  --concurrency   requests in flight in the burst, and connections of both ceilings (default 32)
  --warmup W      resignations submitted and settled before anything is measured (default 40; 0: none),
                  so the figures are warm: JIT, connection pools, PostgreSQL's plan caches
  --json FILE     also write the JSON report to FILE
  --out DIR       results directory (default bench/results)
  --label L       results file name <timestamp>-<L>.{md,json} (default: the mode, or "both")
  --only-targets  measure only what issue 15's targets need: skip what admitting a caller costs and
                  ceiling 3 (the participants alone) — a run in minutes on a busy machine
  --profile       V8 CPU profile of the EMS process per phase (statements per case are always
                  counted on the embedded server: pg_stat_statements)
  --smtp          relay (default): mail goes to an SMTP server in a process of its own;
                  capture: EMS's built-in capture server, inside the EMS process (as npm start)
  --env K=V       an extra EMS_* setting for the EMS process (repeatable)

EMS_DATABASE_URL set: throwaway databases on that server instead of a fresh embedded PostgreSQL.`;

export class UsageError extends Error {}

const positiveInt = (name: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
};

export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Omit<BenchOptions, 'signal' | 'progress' | 'log'> & { out: string | undefined; json: string | undefined; label: string | undefined } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mode: { type: 'string', default: 'both' },
        bus: { type: 'string', default: 'postgres' },
        cases: { type: 'string' },
        rate: { type: 'string' },
        burst: { type: 'boolean', default: false },
        'steady-cases': { type: 'string' },
        concurrency: { type: 'string' },
        warmup: { type: 'string' },
        label: { type: 'string' },
        json: { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'only-targets': { type: 'boolean', default: false },
        smtp: { type: 'string', default: 'relay' },
        env: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) throw new UsageError('');
  const modes: Mode[] =
    values.mode === 'both' ? ['orchestration', 'choreography'] : values.mode === 'orchestration' || values.mode === 'choreography' ? [values.mode] : [];
  if (modes.length === 0) throw new UsageError(`--mode must be orchestration, choreography or both, got ${JSON.stringify(values.mode)}`);
  if (values.bus !== 'postgres' && values.bus !== 'nats') throw new UsageError(`--bus must be postgres or nats, got ${JSON.stringify(values.bus)}`);
  const cases = positiveInt('cases', values.cases, 2000);
  const rateGiven = values.rate !== undefined;
  const rate = rateGiven ? Number(values.rate) : 20;
  if (!(rate > 0 && rate <= 10_000)) throw new UsageError(`--rate must be a number of submissions per second (0 < R ≤ 10000), got ${JSON.stringify(values.rate)}`);
  const both = values.burst === rateGiven; // neither or both given
  const burstCases = values.burst || both ? cases : 0;
  const defaultSteady = both && !rateGiven ? Math.min(cases, Math.round(rate * 30)) : cases;
  const steadyCases = rateGiven || both ? positiveInt('steady-cases', values['steady-cases'], defaultSteady) : 0;
  const concurrency = positiveInt('concurrency', values.concurrency, 32);
  const warmupCases = values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, 40);
  if (values.label !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(values.label)) throw new UsageError(`--label takes letters, digits, '.', '_' and '-', got ${JSON.stringify(values.label)}`);
  if (values.smtp !== 'relay' && values.smtp !== 'capture') throw new UsageError(`--smtp must be relay or capture, got ${JSON.stringify(values.smtp)}`);
  const emsEnv: Record<string, string> = {};
  for (const kv of values.env) {
    const m = /^(EMS_[A-Z0-9_]+)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--env takes EMS_KEY=value, got ${JSON.stringify(kv)}`);
    emsEnv[m[1]!] = m[2]!;
  }
  return {
    modes,
    bus: values.bus,
    burstCases,
    steadyCases,
    rate,
    concurrency,
    warmupCases,
    serverUrl: env.EMS_DATABASE_URL || undefined,
    insertCeilingMs: 5_000,
    checkRequests: 3_000,
    ceilingWorkflows: Math.max(200, burstCases),
    idleMs: 3_000,
    quiesceMaxMs: 20_000,
    pollMs: 1_000,
    statsFlushMs: STATS_FLUSH_MS,
    profile: values.profile,
    onlyTargets: values['only-targets'],
    smtp: values.smtp,
    emsEnv,
    command: `npm run bench --${argv.length ? ` ${argv.join(' ')}` : ''}`,
    out: values.out,
    json: values.json,
    label: values.label,
  };
}
