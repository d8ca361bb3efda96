/**
 * The cost of a burst of access holds, Access alone: `npm exec -- node bench/access-holds.ts [--holds 400]
 * [--concurrency 32] [--label NAME]`.
 *
 *   fresh embedded PostgreSQL (pg_stat_statements) ─► Access's schema, one identity per hold with two
 *   critical grants and one other ─► warm-up, then N × suspendAccess (the use case both modes call) at once,
 *   `concurrency` in flight ─► the audit sealer's work too, when this tree has one (counted in the window)
 *
 * Per hold: SQL statements (round trips, BEGIN/COMMIT included, nested FK checks not), commits
 * (pg_stat_database, idle subtracted), the audit chain's advisory lock (calls and execution ms = time
 * waited for it), and each hold's latency (p50/p99, a ratio within one run on this shared machine).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKysely, createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { ACCESS_SCHEMA, type AccessDB } from '../packages/access/src/db/access.db.ts';
import { migrations } from '../packages/access/src/db/migrations.ts';
import { suspendAccess } from '../packages/access/src/suspend-access/suspend-access.ts';
import { dbCounters, isForeignKeyCheck as nested, startBenchServer, statementCounts, statementDelta } from './postgres.ts';
import { treeCpu, treeCpuDelta } from './proc.ts';

const { values: args } = parseArgs({
  options: {
    holds: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '32' },
    label: { type: 'string', default: 'access-holds' },
  },
});
const N = Number(args.holds);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const log = createLogger({ level: 'silent' });
const by = { actor: { id: 'ems', kind: 'service' as const, name: null, role: 'service' as const, client: 'ems-service-ems' }, onBehalfOf: null };

const server = await startBenchServer({ statements: true });
let pool: Pool | undefined;
try {
  const database = await server.createDatabase('access');
  pool = createPool(database.url, { max: CONCURRENCY + 4, name: 'bench-access' });
  await migrate(pool, ACCESS_SCHEMA, migrations);
  const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
  await pool.query(`INSERT INTO access.systems (id, name, critical) VALUES ('vpn', 'VPN', true), ('mail', 'Mail', true), ('wiki', 'Wiki', false)`);
  const people = Array.from({ length: WARMUP + N }, (_, i) => `B${String(i).padStart(6, '0')}`);
  await pool.query(`INSERT INTO access.identities (employee_id) SELECT unnest($1::text[])`, [people]);
  await pool.query(
    `INSERT INTO access.grants (id, employee_id, system_id, role) SELECT p || '-' || s, p, s, 'user' FROM unnest($1::text[]) p, unnest(ARRAY['vpn', 'mail', 'wiki']) s`,
    [people],
  );

  // The sealer, in a tree that has one (after the audit chain left the writers' transactions).
  const sealing = await import('../packages/access/src/audit/seal-audit.ts').catch(() => undefined);
  const sealer = sealing?.createAuditSealer({ db, log });
  sealer?.start();

  const latencies: number[] = [];
  const run = async (from: number, count: number, record: boolean) => {
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < from + count) {
          const employeeId = people[next++]!;
          const t = performance.now();
          const r = await suspendAccess({ db, clock: systemClock, log }, { resignationId: randomUUID(), employeeId }, by);
          if (record) latencies.push(performance.now() - t);
          if (r.hold.suspendedGrants.length !== 2) throw new Error(`hold for ${employeeId} suspended ${r.hold.suspendedGrants.length} grants`);
        }
      }),
    );
  };

  await run(0, WARMUP, false);
  await sealer?.drained();
  const idle0 = await dbCounters(server, database.name);
  await new Promise((r) => setTimeout(r, 3_000));
  const idle1 = await dbCounters(server, database.name);
  const idleCommitsPerMs = (idle1.xactCommit - idle0.xactCommit) / (idle1.at - idle0.at);

  const s0 = await statementCounts(server, database.name);
  const c0 = await dbCounters(server, database.name);
  const pg0 = treeCpu(server.postmasterPid!);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(WARMUP, N, true);
  const holdsMs = performance.now() - t0;
  // The chain is part of the cost: everything written is linked before the window closes.
  await sealer?.drained();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pgCpuS = treeCpuDelta(pg0, treeCpu(server.postmasterPid!));
  const c1 = await dbCounters(server, database.name);
  const statements = statementDelta(s0, await statementCounts(server, database.name));
  await sealer?.stop();
  const verified = sealing ? await (await import('../packages/access/src/audit/verify-audit-chain.ts')).verifyAuditChain(db) : undefined;

  const per = (x: number) => (x / N).toFixed(2);
  const commits = c1.xactCommit - c0.xactCommit - idleCommitsPerMs * (c1.at - c0.at);
  const total = statements.filter((s) => !nested(s.query)).reduce((a, s) => a + s.calls, 0);
  const lock = statements.filter((s) => s.query === 'SELECT pg_advisory_xact_lock(hashtext($1))');
  const lockCalls = lock.reduce((a, s) => a + s.calls, 0);
  const lockMs = lock.reduce((a, s) => a + s.execMs, 0);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(0);
  const lines = [
    `# Access alone: a burst of ${N} holds (${args.label})`,
    '',
    `${new Date().toISOString()} · concurrency ${CONCURRENCY} · warm-up ${WARMUP} · sealer ${sealer ? 'yes (its work counted)' : 'none (the chain is written in each hold)'} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| per hold (2 audit entries each) | value |',
    '|---|---:|',
    `| SQL statements sent (round trips; BEGIN/COMMIT included, nested FK checks not) | ${per(total)} |`,
    `| commits (idle subtracted) | ${per(commits)} |`,
    `| the chain's advisory lock: calls | ${per(lockCalls)} |`,
    `| the chain's advisory lock: execution ms (= waiting for it) | ${per(lockMs)} |`,
    `| CPU ms, this process | ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} |`,
    `| CPU ms, PostgreSQL | ${((pgCpuS * 1000) / N).toFixed(2)} |`,
    `| hold latency p50 / p99 ms (ratio within a run only) | ${pct(50)} / ${pct(99)} |`,
    `| wall ms for the burst (holds / holds + chain linked) | ${holdsMs.toFixed(0)} / ${ms.toFixed(0)} |`,
    ...(verified ? [`| chain verified after the run | ${verified.ok ? `ok, ${verified.rows} entries, ${verified.pending} pending` : 'BROKEN'} |`] : []),
    '',
    '| calls per hold | exec ms per hold | statement |',
    '|---:|---:|---|',
    ...statements.map((s) => `| ${per(s.calls)} | ${per(s.execMs)} | ${nested(s.query) ? '(nested FK check) ' : ''}\`${s.query.replace(/\s+/g, ' ').slice(0, 140).replaceAll('|', '\\|')}\` |`),
  ];
  const file = path.join(import.meta.dirname, 'results', `${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}Z-${args.label}.md`);
  await writeFile(file, lines.join('\n') + '\n');
  console.log(lines.join('\n'));
  console.log(`\nwritten to ${file}`);
} finally {
  await pool?.end();
  await server.stop();
}
