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
 * `--connector ldap`: the critical systems (all five, or `--ldap-systems vpn,…`) are LDAP-backed instead: a private
 * slapd (test/support/slapd.ts) loaded in one LDIF with every person of the batch and, per system, one group per role
 * holding the people granted it (ou=<system>,ou=groups; the grant's role is the group's cn), and a systems file
 * connecting those systems to it. Access then suspends the rows as before and writes one connector task per person and
 * LDAP system in the chunk's transaction; the connector worker locks each account (ppolicy pwdAccountLockedTime),
 * removes its memberships and verifies (read back + a probe bind). After the batch settles the run waits for those
 * tasks and reports, from Access's connector_tasks: done / failed / pending, when the first and the last were done
 * (done_at − the POST's start: **LDAP locked**), the rate, slapd's CPU; then, untimed, a sample of people checked with
 * ldap-utils (locked attribute read back as the rootdn, a bind with their own password refused, in no group).
 * Writes bench/results/<UTC time>-mass-exit.md (`--label`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { signIn } from '@ems/identity/testing';
import { SYSTEMS } from '@ems/demo-org';
import { bulkLoad, ldapSettingsFor, slapdPid, startSlapd, type Slapd } from '../test/support/slapd.ts';
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
    // builtin (rows only) or ldap (the critical systems carried to a private slapd by the LDAP connector).
    connector: { type: 'string', default: 'builtin' },
    // With --connector ldap: which critical systems are LDAP-backed ('critical': all of them).
    'ldap-systems': { type: 'string', default: 'critical' },
    // With --connector ldap: how long to wait for the connector tasks after the batch settled.
    'ldap-wait-s': { type: 'string', default: '1500' },
    // With --connector ldap: people checked with ldap-utils afterwards (untimed).
    'ldap-sample': { type: 'string', default: '20' },
  },
});
if (values.connector !== 'builtin' && values.connector !== 'ldap') throw new Error(`--connector is builtin or ldap, got ${values.connector}`);
const useLdap = values.connector === 'ldap';
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
  ldap: LdapRun | undefined;
}

/** With --connector ldap: what became of the batch's connector tasks (Access's connector_tasks) and the sample's check. */
interface LdapRun {
  systems: string[];
  groups: number;
  people: number;
  loadMs: number;
  reconcileMs: number;
  tasks: number;
  done: number;
  failed: number;
  pending: number;
  /** Tasks that needed more than one attempt. */
  retried: number;
  /** max(created_at) of the tasks, from the POST's start (the last chunk's transaction). */
  lastWrittenMs: number | null;
  firstDoneMs: number | null;
  /** LDAP locked: the last task's done_at, from the POST's start. */
  lastDoneMs: number | null;
  /** Done tasks per second between the first and the last done. */
  rate: number | null;
  /** CPU of slapd and of the EMS process from the POST's start to the last task's outcome (or the wait's end). */
  slapdCpuS: number;
  emsCpuS: number;
  sample: { checked: number; locked: number; bindRefused: number; inNoGroup: number; problems: string[] };
  /** The connector worker's claim statement (pg_stat_statements, every text of it): one per round, leasing up to the free slots' worth of tasks. */
  claims: ClaimStats | undefined;
  errors: string[];
}

interface ClaimStats {
  calls: number;
  /** How many of the calls were planned (the rest ran a cached generic plan of the named prepared statement). */
  plans: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  /** A claim still running when the wait ended (pg_stat_statements counts it only once it ends): for how long. */
  runningMs: number | null;
}

/** The worker's claim (`UPDATE connector_tasks SET attempts = attempts + 1 … WHERE id IN (SELECT … SKIP LOCKED)`, claim-due-tasks.ts): how often, how long. */
async function claimStats(server: BenchServer, database: string, url: string): Promise<ClaimStats | undefined> {
  if (!server.statements) return undefined;
  const like = 'update "access"."connector_tasks" set "attempts" = attempts + %';
  const { rows } = await server.monitor.query<{ calls: string; plans: string; total: number; max: number }>(
    `SELECT sum(s.calls)::text AS calls, sum(s.plans)::text AS plans, sum(s.total_exec_time)::float8 AS total, max(s.max_exec_time)::float8 AS max
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 AND s.query LIKE $2`,
    [database, like],
  );
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const running = await c.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM max(clock_timestamp() - query_start)) * 1000)::float8 AS ms FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE $1`,
      [like],
    );
    const r = rows[0];
    const calls = Number(r?.calls ?? 0);
    return {
      calls,
      plans: Number(r?.plans ?? 0),
      totalMs: r?.total ?? 0,
      meanMs: calls > 0 ? (r?.total ?? 0) / calls : 0,
      maxMs: r?.max ?? 0,
      runningMs: running.rows[0]?.ms ?? null,
    };
  } finally {
    await c.end();
  }
}

const PASSWORD = (uid: string) => `pw-${uid}-bench`;

interface LdapSetup {
  slapd: Slapd;
  systemsFile: string;
  systems: string[];
  groups: number;
  people: number;
  loadMs: number;
}

/**
 * Drift detection's first round starts with EMS and reads every account of every LDAP-backed system: waited out before
 * the POST (the run then measures the exit, not the exit racing a full reconciliation). Answers how long it took.
 */
async function reconcilerRoundDone(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  try {
    for (const deadline = t0 + 900_000; performance.now() < deadline; await sleep(500)) {
      const { rows } = await c.query<{ done: boolean }>(`SELECT last_round_at > 'epoch'::timestamptz AND running_until IS NULL AS done FROM access.reconciler`);
      if (rows[0]?.done) return Math.round(performance.now() - t0);
    }
    throw new Error('drift detection\'s first round did not end within 15 minutes');
  } finally {
    await c.end();
  }
}

/** A private slapd holding the batch's people and their critical groups (one LDIF), and the systems file pointing at it. */
async function startLdap(mode: string, org: ReturnType<typeof benchOrg>['org'], resigners: readonly string[]): Promise<LdapSetup> {
  const wanted = values['ldap-systems'] === 'critical' ? undefined : new Set(values['ldap-systems'].split(','));
  const systems = SYSTEMS.filter((s) => s.critical && (!wanted || wanted.has(s.id)));
  if (systems.length === 0) throw new Error(`--ldap-systems names no critical system (critical: ${SYSTEMS.filter((s) => s.critical).map((s) => s.id).join(', ')})`);
  const slapd = await startSlapd({ name: `mx${mode.slice(0, 5)}`, maxSize: 2 ** 31 });
  try {
    // Everyone granted an LDAP-backed system is in the directory (the batch and their heads): drift detection then
    // finds every account as Access believes it.
    const inDirectory = new Set(org.grants.filter((g) => systems.some((s) => s.id === g.systemId)).map((g) => g.employeeId));
    const byId = new Map(org.employees.map((e) => [e.id, e]));
    const members = new Map<string, string[]>(); // `${system}\t${role}` → uids
    for (const g of org.grants) {
      if (!inDirectory.has(g.employeeId) || !systems.some((s) => s.id === g.systemId)) continue;
      const key = `${g.systemId}\t${g.role}`;
      (members.get(key) ?? members.set(key, []).get(key)!).push(g.employeeId);
    }
    const groups = [...members].map(([key, uids]) => {
      const [system, role] = key.split('\t') as [string, string];
      return { dn: `cn=${role},ou=${system},${slapd.groupsBase}`, cn: role, members: uids };
    });
    const loadMs = await bulkLoad(slapd, {
      units: systems.map((s) => `ou=${s.id},ou=groups`),
      people: [...inDirectory].map((uid) => ({ uid, password: PASSWORD(uid), mail: byId.get(uid)?.email ?? `${uid}@bench.example` })),
      groups,
    });
    log(`${mode}: slapd loaded with ${inDirectory.size} people (${resigners.length} in the batch) and ${groups.length} groups in ${loadMs} ms`);
    const systemsFile = path.join(slapd.dir, 'systems.json');
    await writeFile(
      systemsFile,
      JSON.stringify({
        systems: systems.map((s) => ({
          id: s.id,
          name: s.name,
          critical: true,
          connector: { type: 'ldap', settings: ldapSettingsFor(slapd, { groups: { entitlement: 'cn', dn: `cn={cn},ou=${s.id},${slapd.groupsBase}`, placeholderMember: slapd.placeholderDn } }) },
        })),
      }),
    );
    return { slapd, systemsFile, systems: systems.map((s) => s.id), groups: groups.length, people: inDirectory.size, loadMs };
  } catch (err) {
    await slapd.stop();
    throw err;
  }
}

const ldapTool = (cmd: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });

/** Untimed: a random sample of the batch, each checked with ldap-utils (not the connector's ldapts client). */
async function checkSample(setup: LdapSetup, resigners: readonly string[], n: number): Promise<LdapRun['sample']> {
  const { slapd } = setup;
  const picked = new Set<string>();
  while (picked.size < Math.min(n, resigners.length)) picked.add(resigners[randomInt(resigners.length)]!);
  const sample: LdapRun['sample'] = { checked: 0, locked: 0, bindRefused: 0, inNoGroup: 0, problems: [] };
  for (const uid of picked) {
    sample.checked++;
    const dn = slapd.personDn(uid);
    const entry = await slapd.entry(dn);
    const lock = entry ? (Object.entries(entry).find(([k]) => k.toLowerCase() === 'pwdaccountlockedtime')?.[1] ?? []) : [];
    if (lock.includes('000001010000Z')) sample.locked++;
    else sample.problems.push(`${uid}: pwdAccountLockedTime ${lock.join(', ') || 'absent'}`);
    if ((await slapd.bindAs(uid, PASSWORD(uid))) === 'invalidCredentials') sample.bindRefused++;
    else sample.problems.push(`${uid}: a bind with their own password succeeds`);
    const r = await ldapTool('ldapsearch', ['-x', '-H', slapd.url, '-D', slapd.rootDn, '-w', slapd.rootPassword, '-LLL', '-o', 'ldif-wrap=no', '-b', slapd.groupsBase, `(member=${dn})`, '1.1']);
    if (r.code !== 0) sample.problems.push(`${uid}: ldapsearch of groups failed (${r.code}): ${r.stderr.trim()}`);
    else {
      const groups = r.stdout.split('\n').filter((l) => l.startsWith('dn: '));
      if (groups.length === 0) sample.inNoGroup++;
      else sample.problems.push(`${uid}: still in ${groups.map((l) => l.slice(4)).join('; ')}`);
    }
  }
  return sample;
}

/**
 * After the batch settled: waits until none of its suspend tasks is pending (or --ldap-wait-s), then reads their
 * outcome from Access's connector_tasks (EMS's clock, the same host's as the POST's start).
 */
async function ldapPhase(
  url: string,
  setup: LdapSetup & { reconcileMs: number },
  resigners: readonly string[],
  startedAt: number,
  cpu0: { ems: ReturnType<typeof treeCpu>; slapd: ReturnType<typeof treeCpu> | undefined; emsPid: number; slapdPid: number | undefined },
): Promise<LdapRun> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const errors: string[] = [];
  try {
    type Counts = { tasks: number; done: number; failed: number; pending: number; retried: number; last_written: Date | null; first_done: Date | null; last_done: Date | null };
    const read = async () =>
      (
        await c.query<Counts>(
          `SELECT count(*)::int AS tasks,
                  count(*) FILTER (WHERE status = 'done')::int AS done,
                  count(*) FILTER (WHERE status = 'failed')::int AS failed,
                  count(*) FILTER (WHERE status = 'pending')::int AS pending,
                  count(*) FILTER (WHERE attempts > 1)::int AS retried,
                  max(created_at) AS last_written,
                  min(done_at) AS first_done,
                  max(done_at) AS last_done
             FROM access.connector_tasks
            WHERE action = 'suspend' AND employee_id = ANY($1::text[])`,
          [resigners],
        )
      ).rows[0]!;
    const deadline = performance.now() + Number(values['ldap-wait-s']) * 1000;
    let counts = await read();
    let lastLog = 0;
    while ((counts.pending > 0 || counts.tasks === 0) && performance.now() < deadline) {
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`  LDAP: ${counts.done}/${counts.tasks} done, ${counts.failed} failed, ${counts.pending} pending at ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
      }
      await sleep(1000);
      counts = await read();
    }
    const emsCpuS = treeCpuDelta(cpu0.ems, treeCpu(cpu0.emsPid));
    const slapdCpuS = cpu0.slapd && cpu0.slapdPid ? treeCpuDelta(cpu0.slapd, treeCpu(cpu0.slapdPid)) : 0;
    if (counts.pending > 0) errors.push(`${counts.pending} tasks still pending after waiting ${values['ldap-wait-s']} s`);
    const { rows: failures } = await c.query<{ last_error: string | null; n: number }>(
      `SELECT last_error, count(*)::int AS n FROM access.connector_tasks
        WHERE action = 'suspend' AND employee_id = ANY($1::text[]) AND status = 'failed' GROUP BY last_error ORDER BY n DESC LIMIT 5`,
      [resigners],
    );
    for (const f of failures) errors.push(`${f.n} failed: ${f.last_error ?? '(no error recorded)'}`);
    const rel = (d: Date | null) => (d ? d.getTime() - startedAt : null);
    const firstDoneMs = rel(counts.first_done);
    const lastDoneMs = rel(counts.last_done);
    const sample = await checkSample(setup, resigners, Number(values['ldap-sample']));
    return {
      systems: setup.systems,
      groups: setup.groups,
      people: setup.people,
      loadMs: setup.loadMs,
      reconcileMs: setup.reconcileMs,
      tasks: counts.tasks,
      done: counts.done,
      failed: counts.failed,
      pending: counts.pending,
      retried: counts.retried,
      lastWrittenMs: rel(counts.last_written),
      firstDoneMs,
      lastDoneMs,
      rate: firstDoneMs !== null && lastDoneMs !== null && lastDoneMs > firstDoneMs ? ((counts.done - 1) * 1000) / (lastDoneMs - firstDoneMs) : null,
      slapdCpuS,
      emsCpuS,
      sample,
      claims: undefined,
      errors,
    };
  } finally {
    await c.end();
  }
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

const log = (line: string) => process.stderr.write(`${line}\n`);
const s = (ms: number | null) => (ms === null ? 'not reached' : `${(ms / 1000).toFixed(2)} s`);

async function run(mode: 'orchestration' | 'choreography', server: BenchServer): Promise<Run> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `ems-mass-exit-${mode}-`));
  const logFile = path.join(tmpdir(), `ems-mass-exit-${mode}-${process.pid}.log`);
  const db = await server.createDatabase(`mass_exit_${mode}`);
  const { org, resigners } = benchOrg({ resigners: people });
  const ldap = useLdap ? await startLdap(mode, org, resigners) : undefined;
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
      // Drift detection: its first round (at start) is waited out below; no other round during the run.
      ...(ldap ? { EMS_ACCESS_SYSTEMS_FILE: ldap.systemsFile, EMS_ACCESS_RECONCILE_INTERVAL: '1h' } : {}),
    },
    people,
    logFile,
    600_000,
  );
  const startupMs = Math.round(performance.now() - t0);
  log(`${mode}: EMS up in ${startupMs} ms with ${people} people (log: ${logFile})`);
  const reconcileMs = ldap ? await reconcilerRoundDone(db.url) : 0;
  if (ldap) log(`${mode}: drift detection's first round over the directory ended after ${reconcileMs} ms more`);
  try {
    const base = ems.url;
    const auth = { authorization: `Bearer ${(await signIn(base, 'hr-lead')).accessToken}` };
    const body = { employees: resigners.map((employeeId) => ({ employeeId })), reason: 'redundancy', revokeAt: new Date(Date.now() + 86_400_000).toISOString() };
    if (server.statements) await server.monitor.query('SELECT pg_stat_statements_reset()');
    await sleep(600); // statistics flush (pg_stat_database is read from shared memory, updated at most every 500 ms)
    const counters0 = await dbCounters(server, db.name);
    const emsCpu0 = treeCpu(ems.pid);
    const pgCpu0 = treeCpu(server.postmasterPid!);
    const ldapPid = ldap ? await slapdPid(ldap.slapd) : undefined;
    const ldapCpu0 = ldapPid ? treeCpu(ldapPid) : undefined;
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
    // With LDAP the run goes on until the connector tasks are done: the profile, CPU and counts cover that too.
    const ldapRun = ldap ? await ldapPhase(db.url, { ...ldap, reconcileMs }, resigners, startedAt, { ems: emsCpu0, slapd: ldapCpu0, emsPid: ems.pid, slapdPid: ldapPid }) : undefined;
    if (ldapRun) ldapRun.claims = await claimStats(server, db.name, db.url);
    if (ldapRun) log(`${mode}: LDAP ${ldapRun.done} done, ${ldapRun.failed} failed, ${ldapRun.pending} pending; last done at ${s(ldapRun.lastDoneMs)}; sample ${ldapRun.sample.locked}/${ldapRun.sample.checked} locked`);
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
      ldap: ldapRun,
    };
  } finally {
    await ems.stop();
    await rm(dataDir, { recursive: true, force: true });
    await ldap?.slapd.stop();
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

const stamp = new Date().toISOString().slice(0, 16).replace(':', '-');
const per = (n: number, r: Run) => (n / r.chunks).toFixed(1);
const lines = [
  `# Mass exit of ${people} people — ${new Date().toISOString().slice(0, 16)}Z (${values.label})`,
  '',
  `Fresh embedded PostgreSQL (the binaries \`npm start\` uses, over its Unix socket), ${useLdap ? 'the LDAP connector on the critical systems (below)' : 'built-in connector'}, capture SMTP;`,
  `\`npm run bench:mass-exit${useLdap ? ' -- --connector ldap' : ''}\`. One POST /api/exits as the HR lead; times from the POST's start.`,
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
  ...ldapLines(),
  `Counts from the POST to ${useLdap ? "the last LDAP task's outcome (the connector worker's statements included)" : 'settled'}, per chunk of 500 (whole run ÷ chunks):`,
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
function ldapLines(): string[] {
  const withLdap = results.filter((r) => r.ldap);
  if (withLdap.length === 0) return [];
  const first = withLdap[0]!.ldap!;
  const slots = Math.max(1, Math.floor(16 / first.systems.length));
  return [
    `**LDAP connector** (OpenLDAP slapd on loopback, ppolicy; one private server per mode): the critical systems ${first.systems.join(', ')} are LDAP-backed —`,
    `${first.people} people in the directory (the batch and their heads: everyone granted one of those systems), ${first.groups} groups (one per system and role, holding the people granted it),`,
    `loaded by one ldapadd in ${(first.loadMs / 1000).toFixed(1)} s before EMS starts. Drift detection's first round (at start; every account of every LDAP system) is waited out`,
    `before the POST (${withLdap.map((r) => `${r.mode} ${(r.ldap!.reconcileMs / 1000).toFixed(0)} s`).join(', ')}) and its interval set to 1 h, so no round overlaps the run (the default, 5 min, would let one compete).`,
    'One connector task per person and LDAP system, written in the chunk\'s transaction; the worker leases a batch of due tasks per statement (claim-due-tasks.ts), up to 16 calls at once,',
    `each system at most its share (16 ÷ ${first.systems.length} systems = ${slots} at once); one task = a connection + bind, read the person, the lock, one modify per group,`,
    'read back the person and each group, then a second connection for the probe bind (ppolicy control). **LDAP locked** = the last task\'s `done_at`',
    '(read from Access\'s connector_tasks after the run) − the POST\'s start. Sample: people picked at random, checked afterwards with ldap-utils as the rootdn',
    '(pwdAccountLockedTime = 000001010000Z read back, a bind with their own password refused, in no group under ou=groups).',
    'The machine may be shared (others\' tests): times are noisy; the counts (tasks, statements, commits per chunk) and ratios hold.',
    '',
    '| mode | people | tasks | done | failed | pending | retried | critical suspended (rows, commit) | last task written | first task done | **LDAP locked** (last done) | tasks/s (first → last done) | slapd CPU | EMS CPU (POST → last done) | sample: locked / bind refused / in no group |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...withLdap.map((r) => {
      const l = r.ldap!;
      return `| ${r.mode} | ${r.people} | ${l.tasks} | ${l.done} | ${l.failed} | ${l.pending} | ${l.retried} | ${s(r.criticalCommitMs)} | ${s(l.lastWrittenMs)} | ${s(l.firstDoneMs)} | **${s(l.lastDoneMs)}** | ${l.rate === null ? '–' : l.rate.toFixed(0)} | ${l.slapdCpuS.toFixed(1)} s | ${l.emsCpuS.toFixed(1)} s | ${l.sample.locked} / ${l.sample.bindRefused} / ${l.sample.inNoGroup} of ${l.sample.checked} |`;
    }),
    '',
    'The worker\'s claim statement (one per round, each leasing up to the free slots\' worth of tasks, one claim at a time per process; pg_stat_statements over the run, every text of it; idle rounds included):',
    '',
    '| mode | claims | tasks per claim | planned | mean | max | still running at the end |',
    '|---|---|---|---|---|---|---|',
    ...withLdap.map((r) => {
      const c = r.ldap!.claims;
      return c ? `| ${r.mode} | ${c.calls} | ${c.calls > 0 ? (r.ldap!.tasks / c.calls).toFixed(2) : '–'} | ${c.plans} | ${c.meanMs.toFixed(1)} ms | ${(c.maxMs / 1000).toFixed(2)} s | ${c.runningMs === null ? '–' : `${(c.runningMs / 1000).toFixed(0)} s`} |` : `| ${r.mode} | – | – | – | – | – | – |`;
    }),
    '',
    ...withLdap.flatMap((r) => [...r.ldap!.errors.map((e) => `- error (${r.mode}): ${e}`), ...r.ldap!.sample.problems.map((p) => `- sample (${r.mode}): ${p}`)]),
    '',
  ];
}

const out = values.out ?? path.join(import.meta.dirname, 'results', `${stamp}Z-${values.label}.md`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, lines.join('\n'));
process.stdout.write(lines.join('\n'));
log(`written to ${out}`);
