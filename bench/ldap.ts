/**
 * `npm run bench:ldap`: how long from a resignation's submission to a verified lock of the person's real
 * LDAP account, in each mode. One EMS per mode (in this process, on a throwaway database of
 * EMS_TEST_DATABASE_URL's server or an embedded PostgreSQL) whose systems file connects a critical system
 * to a private OpenLDAP slapd (test/support/slapd.ts); each case's employee is in that directory with
 * two groups, and Access grants them those groups.
 *
 * Per case, one at a time (latency, not throughput): the employee's `POST /api/resignations` is sent at
 * t0; then
 *   - submission = the POST's own round trip (201 received − t0);
 *   - rows suspended = the case's suspendAccess step `at` − t0 (Access's own rows, as the main benchmark);
 *   - LDAP locked = the connector task's `done_at` − t0: the lock written, read back and proven by a
 *     probe bind refused as "account locked" (EMS's clock, the same host's as t0);
 * and, untimed, a bind with the person's own password must fail (else the case counts as an error).
 * Also the connector alone: its apply (suspend of two groups) called directly on people of its own.
 * Medians and p95 over BENCH_LDAP_CASES cases (default 30) after one untimed case, each as a ratio to
 * the submission's median in the same run (the machine is shared: ratios travel, milliseconds drift).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createKysely, createLogger, freePort } from '@ems/platform';
import { createTestDatabase, requestJson } from '@ems/platform/testing';
import { loadConfig, startEms } from '@ems/server';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';
import type { ems } from '@ems/contracts';
import { ldapConnector } from '../packages/access/src/connectors/ldap/index.ts';
import { tokenFor } from '../test/support/auth.ts';
import { scriptServer } from '../test/browser/browser-ems.ts';
import { startSlapd, writeLdapSystemsFile } from '../test/support/slapd.ts';

const CASES = Number(process.env.BENCH_LDAP_CASES ?? 30);
// BENCH_LDAP_OUT: another folder for the report (the smoke test's temporary one).
const RESULTS = process.env.BENCH_LDAP_OUT ?? path.join(import.meta.dirname, 'results');
const SYSTEM = 'corp-ldap';

/** `slapd -VV` says its version on stderr, e.g. "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 …". */
const slapdVersion = () => /slapd ([\w.+~-]+)/.exec(spawnSync('/usr/sbin/slapd', ['-VV'], { encoding: 'utf8' }).stderr ?? '')?.[1] ?? 'unknown version';

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ModeResult {
  mode: 'orchestration' | 'choreography';
  submission: number[];
  rows: number[];
  locked: number[];
  /** The connector task written (in the hold's transaction) − t0. */
  planned: number[];
  /** The task written → done (the worker's pick-up and the connector's call). */
  carried: number[];
  errors: string[];
}

async function runMode(mode: ModeResult['mode'], serverUrl: string, people: Employee[]): Promise<ModeResult> {
  const slapd = await startSlapd({ name: `bench${mode.slice(0, 5)}` });
  const db = await createTestDatabase(serverUrl, `bench_ldap_${mode}`);
  const result: ModeResult = { mode, submission: [], rows: [], locked: [], planned: [], carried: [], errors: [] };
  try {
    const passwords = new Map(people.map((e) => [e.id, `pw-${randomBytes(9).toString('base64url')}`]));
    await slapd.addPeople(people.map((e) => ({ uid: e.id, password: passwords.get(e.id)!, mail: e.email })));
    await slapd.addGroup({ cn: 'vpn', members: people.map((e) => e.id) });
    await slapd.addGroup({ cn: 'finance', members: people.map((e) => e.id) });
    const port = await freePort();
    const config = loadConfig({
      EMS_PORT: String(port),
      EMS_MODE: mode,
      EMS_DATABASE_URL: db.url,
      EMS_LOG_LEVEL: 'warn',
      EMS_SECRETS_KEY: TEST_SECRETS_KEY,
      EMS_ACCESS_SYSTEMS_FILE: await writeLdapSystemsFile(slapd, { id: SYSTEM, name: 'Corporate directory' }),
      ...(mode === 'choreography' ? { EMS_HR_URL: 'http://127.0.0.1:9', EMS_ACCESS_URL: 'http://127.0.0.1:9' } : {}),
    });
    const running = await startEms(config, { log: createLogger({ level: process.env.BENCH_LDAP_LOG ?? 'warn' }) });
    try {
      const base = running.url;
      const accessDb = createKysely<{
        grants: { id: string; employee_id: string; system_id: string; role: string };
        connector_tasks: { employee_id: string; system_id: string; action: string; status: string; created_at: Date; done_at: Date | null; last_error: string | null };
      }>(running.pool, 'access');
      await accessDb
        .insertInto('grants')
        .values(people.flatMap((e) => ['vpn', 'finance'].map((g) => ({ id: `ldap-${e.id}-${g}`, employee_id: e.id, system_id: SYSTEM, role: slapd.groupDn(g) }))))
        .execute();

      for (const [i, e] of people.entries()) {
        const authorization = `Bearer ${await tokenFor(base, e.id)}`;
        const t0 = Date.now();
        const res = await requestJson<ems.Resignation>(base, 'POST', '/api/resignations', { employeeId: e.id }, { authorization });
        const t1 = Date.now();
        if (res.status !== 201) {
          result.errors.push(`${e.id}: POST answered ${res.status}`);
          continue;
        }
        let task: { status: string; created_at: Date; done_at: Date | null; last_error: string | null } | undefined;
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(10)) {
          task = await accessDb.selectFrom('connector_tasks').select(['status', 'created_at', 'done_at', 'last_error']).where('employee_id', '=', e.id).where('system_id', '=', SYSTEM).where('action', '=', 'suspend').executeTakeFirst();
          if (task && task.status !== 'pending') break;
        }
        if (task?.status !== 'done' || !task.done_at) {
          result.errors.push(`${e.id}: LDAP suspend ${task?.status ?? 'never planned'} ${task?.last_error ?? ''}`);
          continue;
        }
        let blockAt: string | null | undefined;
        for (const deadline = Date.now() + 60_000; Date.now() < deadline && !blockAt; await sleep(20)) {
          const c = await requestJson<ems.Resignation>(base, 'GET', `/api/resignations/${res.body.id}`, undefined, { authorization });
          if (c.body.steps.suspendAccess.status === 'done') blockAt = c.body.steps.suspendAccess.at;
        }
        if (await slapd.bindAs(e.id, passwords.get(e.id)!) !== 'invalidCredentials') result.errors.push(`${e.id}: a bind with their password still succeeds`);
        if (i === 0) continue; // the untimed first case
        result.submission.push(t1 - t0);
        result.locked.push(task.done_at.getTime() - t0);
        result.planned.push(task.created_at.getTime() - t0);
        result.carried.push(task.done_at.getTime() - task.created_at.getTime());
        if (blockAt) result.rows.push(Date.parse(blockAt) - t0);
        process.stderr.write(`\r${mode}: ${i}/${people.length - 1}`);
      }
      process.stderr.write('\n');
    } finally {
      await running.stop();
    }
  } finally {
    await db.drop();
    await slapd.stop();
  }
  return result;
}

/** The connector alone: apply(suspend, two groups) on people of its own, one at a time. */
async function connectorAlone(n: number): Promise<number[]> {
  const slapd = await startSlapd({ name: 'benchalone' });
  try {
    const uids = Array.from({ length: n + 1 }, (_, i) => `p${i}`);
    await slapd.addPeople(uids.map((uid) => ({ uid, password: `pw-${uid}` })));
    await slapd.addGroup({ cn: 'vpn', members: uids });
    await slapd.addGroup({ cn: 'finance', members: uids });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const connector = ldapConnector.create(
      ldapConnector.parseSettings({ url: slapd.url, bindDn: slapd.serviceDn, bindPassword: slapd.servicePassword, userDn: `uid={id},${slapd.peopleBase}`, groups: { base: slapd.groupsBase, placeholderMember: slapd.placeholderDn } }),
      { systemId: SYSTEM, log, readSecretFile: () => '' },
    );
    const times: number[] = [];
    for (const [i, uid] of uids.entries()) {
      const t0 = performance.now();
      await connector.apply({ changeId: `c-${uid}`, action: 'suspend', account: { employeeId: uid, email: null }, entitlements: [slapd.groupDn('vpn'), slapd.groupDn('finance')] }, AbortSignal.timeout(10_000));
      if (i > 0) times.push(performance.now() - t0);
    }
    await connector.close();
    return times;
  } finally {
    await slapd.stop();
  }
}

async function main(): Promise<number> {
  const org = demoOrg();
  const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
  const eligible = org.employees.filter((e) => e.managerId && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)));
  if (CASES + 1 > eligible.length) throw new Error(`BENCH_LDAP_CASES must be at most ${eligible.length - 1} (the demo organisation's employees)`);
  const people = eligible.slice(0, CASES + 1);
  const server = await scriptServer('bench-ldap');
  const results: ModeResult[] = [];
  let alone: number[];
  try {
    for (const mode of ['orchestration', 'choreography'] as const) results.push(await runMode(mode, server.url, people));
    alone = await connectorAlone(CASES);
  } finally {
    await server.stop();
  }

  const ms = (x: number) => x.toFixed(0);
  const lines = [
    `# Submission → verified LDAP lock — ${new Date().toISOString()}`,
    '',
    `${CASES} cases per mode, one at a time, after one untimed case; EMS in-process on PostgreSQL (${process.env.EMS_TEST_DATABASE_URL ? 'the machine\'s server' : 'embedded'}), OpenLDAP slapd ${slapdVersion()} on loopback with ppolicy.`,
    'Each lock is verified by the connector (read back + a probe bind refused as "account locked"); afterwards a bind with the person\'s own password was checked to fail.',
    'ms; ratio = median (p95) ÷ the submission\'s own HTTP median (p95) in the same mode and run.',
    '',
    '| mode | submission POST median / p95 | rows suspended (suspendAccess) median / p95 | **LDAP locked, verified** median / p95 | LDAP locked ÷ submission | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      if (r.locked.length === 0) return `| ${r.mode} | – | – | – | – | ${r.errors.length} |`;
      const [sm, sp] = [quantile(r.submission, 0.5), quantile(r.submission, 0.95)];
      const [lm, lp] = [quantile(r.locked, 0.5), quantile(r.locked, 0.95)];
      const rows = r.rows.length ? `${ms(quantile(r.rows, 0.5))} / ${ms(quantile(r.rows, 0.95))}` : '–';
      return `| ${r.mode} | ${ms(sm)} / ${ms(sp)} | ${rows} | **${ms(lm)} / ${ms(lp)}** | ${(lm / sm).toFixed(1)}× (p95 ${(lp / sp).toFixed(1)}×) | ${r.errors.length} |`;
    }),
    '',
    'Where the time goes (median / p95, ms): the connector task written in the hold\'s transaction − t0; that task written → done (worker pick-up + the connector\'s call).',
    '',
    '| mode | task written | task written → done |',
    '|---|---:|---:|',
    ...results.filter((r) => r.planned.length).map((r) => `| ${r.mode} | ${ms(quantile(r.planned, 0.5))} / ${ms(quantile(r.planned, 0.95))} | ${ms(quantile(r.carried, 0.5))} / ${ms(quantile(r.carried, 0.95))} |`),
    '',
    `The LDAP connector alone (apply: suspend with two groups — connect, bind, lock, two membership removals, read-backs, probe bind), ${alone.length} calls: median ${alone.length ? quantile(alone, 0.5).toFixed(1) : '–'} ms, p95 ${alone.length ? quantile(alone, 0.95).toFixed(1) : '–'} ms.`,
    '',
    ...results.flatMap((r) => r.errors.map((e) => `- error (${r.mode}): ${e}`)),
  ];
  const report = lines.join('\n');
  console.log(report);
  const file = path.join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z-ldap.md`);
  await writeFile(file, `${report}\n`);
  console.error(`bench:ldap: written ${path.relative(process.cwd(), file)}`);
  return results.some((r) => r.errors.length > 0) ? 1 : 0;
}

process.exitCode = await main();
