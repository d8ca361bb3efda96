/**
 * `npm run bench:mass-exit [-- --people 10000 --modes orchestration,choreography]`: a mass exit of N people on
 * the embedded default (EMS's own PostgreSQL in a fresh data directory, the built-in connector, the capture SMTP
 * server), each mode in its own EMS process seeded with the benchmark organisation (bench/org.ts: every person
 * has 4 ordinary and 2–3 critical grants). One POST /api/exits as the HR lead, then GET /api/exits/{id} every
 * 100 ms. Reports, from the POST's start:
 * - accepted: the 202 (every person checked, every case opened: set-based);
 * - all suspended: the first look at which EMS had recorded every person's suspension — so at most 100 ms after
 *   Access committed the last chunk (every grant, critical ones included, suspended in Access's transaction);
 * - settled: every person's manager and employee told too (notices queued in Notification's outbox).
 * Writes bench/results/<date>-mass-exit.md.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { signIn } from '@ems/identity/testing';
import { benchOrg } from './org.ts';
import { startEmsProcess } from './ems-process.ts';

const { values } = parseArgs({ options: { people: { type: 'string', default: '10000' }, modes: { type: 'string', default: 'orchestration,choreography' }, out: { type: 'string' } } });
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
  failed: number;
  chunks: number;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function run(mode: 'orchestration' | 'choreography'): Promise<Run> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `ems-mass-exit-${mode}-`));
  const logFile = path.join(tmpdir(), `ems-mass-exit-${mode}-${process.pid}.log`);
  const t0 = performance.now();
  const ems = await startEmsProcess(
    { EMS_MODE: mode, EMS_DATA_DIR: dataDir, EMS_PORT: '0', EMS_LOG_LEVEL: 'warn', EMS_SEED: 'true', EMS_SECRETS_KEY: randomBytes(32).toString('base64') },
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
      await sleep(100);
    }
    return {
      mode,
      people,
      startupMs,
      acceptedMs,
      suspendedMs,
      settledMs,
      settledAtMs: last?.settledAt ? Date.parse(last.settledAt) - startedAt : null,
      failed: last?.failed ?? -1,
      chunks: started.chunks,
    };
  } finally {
    await ems.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results: Run[] = [];
for (const mode of modes) results.push(await run(mode));

const s = (ms: number | null) => (ms === null ? 'not reached' : `${(ms / 1000).toFixed(2)} s`);
const date = new Date().toISOString().slice(0, 10);
const lines = [
  `# Mass exit of ${people} people — ${date}`,
  '',
  'Embedded default (EMS\'s own PostgreSQL), built-in connector, capture SMTP; `npm run bench:mass-exit`. One POST /api/exits',
  'as the HR lead; times from the POST\'s start. "All suspended": the first 100 ms look at GET /api/exits/{id} at which EMS had',
  "recorded every person's suspension (Access suspends every grant, critical first, in one transaction per chunk of 500).",
  'Target (issue 15): all critical grants suspended ≤ 10 s.',
  '',
  '| mode | people | chunks | accepted (202) | all suspended | settled (all told) | failed | target ≤ 10 s |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.mode} | ${r.people} | ${r.chunks} | ${s(r.acceptedMs)} | ${s(r.suspendedMs)} | ${s(r.settledMs)} | ${r.failed} | ${r.suspendedMs !== null && r.suspendedMs <= 10_000 ? 'met' : 'missed'} |`),
  '',
];
const out = values.out ?? path.join(import.meta.dirname, 'results', `${date}-mass-exit.md`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, lines.join('\n'));
process.stdout.write(lines.join('\n'));
log(`written to ${out}`);
