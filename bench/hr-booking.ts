/**
 * `node bench/hr-booking.ts [--bookings 300] [--concurrency 16] [--label L]`: what one exit-interview booking costs HR,
 * counted apart from everything else. HR alone in its own fresh database (the identity provider that issues the
 * orchestrator's token in another one, Notification stood in for by an HTTP stub that accepts every email), then
 * N bookings as the orchestrator makes them (POST /api/interviews, Idempotency-Key), until every invite is sent.
 * Counts, which a noisy machine does not change:
 * - statements HR's pool sent (each one round trip), per booking, listed one by one;
 * - commits of HR's database (pg_stat_database.xact_commit: every autocommit statement is one);
 * - HTTP calls to Notification per booking;
 * and the CPU of this process (HR + load + stub) and of HR's PostgreSQL backends per booking, for a ratio
 * measured before and after in the same conditions. Writes bench/results/<UTC>-hr-booking[-label].md.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createHttpServer, createLogger, createPool, migrate } from '@ems/platform';
import { knownCases } from '@ems/platform/testing';
import { demoOrg } from '@ems/demo-org';
import { hr, notification } from '@ems/contracts';
import { startTestIdentity } from '@ems/identity/testing';
import { createHrService } from '@ems/hr';

const { values } = parseArgs({
  options: {
    bookings: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '20' },
    label: { type: 'string' },
    server: { type: 'string', default: process.env.EMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const N = Number(values.bookings);
const C = Number(values.concurrency);
const W = Number(values.warmup);
const say = (s: string) => process.stderr.write(`${s}\n`);

const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
const hrDb = `bench_hr_${Date.now()}`;
const idDb = `${hrDb}_identity`;
const admin = new pg.Client({ connectionString: values.server });
await admin.connect();
await admin.query(`CREATE DATABASE ${hrDb}`);
await admin.query(`CREATE DATABASE ${idDb}`);
const urlOf = (db: string) => {
  const u = new URL(values.server);
  u.pathname = `/${db}`;
  return u.toString();
};

// Notification stood in for: every email accepted and "sent" (201), counted; the batch form (POST /api/email-batches) too.
let notificationCalls = 0;
let notificationEmails = 0;
const stubEmail = (body: notification.SendEmailRequest): notification.Email => {
  notificationEmails++;
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    resignationId: body.resignationId,
    purpose: body.purpose,
    to: body.to.email,
    template: body.template,
    subject: 'stub',
    status: 'sent',
    attempts: 1,
    messageId: null,
    lastError: null,
    attachments: [],
    createdAt: now,
    sentAt: now,
  };
};
const stub = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += String(c)));
  req.on('end', () => {
    notificationCalls++;
    if (req.url === notification.NotificationPaths.emailBatches) {
      const batch = JSON.parse(raw) as notification.SendEmailsRequest;
      const answer: notification.SendEmailsAnswer = { emails: batch.emails.map((e) => ({ state: 'created', email: stubEmail(e.email) })) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
      return;
    }
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stubEmail(JSON.parse(raw) as notification.SendEmailRequest)));
  });
});
await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
const notificationUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;

const log = createLogger({ level: 'silent' });
const org = demoOrg(Math.ceil((N + W) * 1.2));
const idPool = createPool(urlOf(idDb), { max: 10 });
const identity = await startTestIdentity(idPool, org, log);

// HR's pool: every statement it sends is counted (one round trip each).
const pool = createPool(urlOf(hrDb), { max: 20, name: 'hr-bench' });
const statements = new Map<string, number>();
let counting = false;
pool.on('connect', (client) => {
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
    if (counting) {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?');
      const key = text.replace(/\s+/g, ' ').replace(/\(\$\d+(, \$\d+)*\)/g, '(…)').slice(0, 150);
      statements.set(key, (statements.get(key) ?? 0) + 1);
    }
    return query(...args);
  };
});
const watcher = new pg.Client({ connectionString: urlOf(hrDb), application_name: 'hr-bench-watcher' });
await watcher.connect();
const cases = knownCases();
const service = createHrService({ pool, log, notificationUrl, auth: identity.callAuth('hr'), cases: cases.lookup });
await migrate(pool, service.schema, service.migrations);
await service.seed!(org);
const app = await createHttpServer({ title: 'hr bench', version: '0', logger: log, plugins: [service.routes], readiness: {}, docs: false, security: identity.securityFor(['hr']) });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
await service.start!();
const asEms = identity.callAuth('ems');

const lastWorkingDay = new Date(Date.now() + 28 * 86_400_000).toISOString().slice(0, 10);
const employees = org.employees.filter((e) => e.managerId).map((e) => e.id);
if (employees.length < N + W) throw new Error(`only ${employees.length} employees for ${N + W} bookings`);
let errors = 0;
let polls = 0;
async function book(employeeId: string): Promise<void> {
  const resignationId = cases.add(randomUUID(), employeeId);
  const body: hr.ScheduleInterviewRequest = { resignationId, employeeId, lastWorkingDay };
  const res = await fetch(`${base}${hr.HrPaths.interviews}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `${resignationId}:scheduleInterview`, ...(await asEms('hr')) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) {
    errors++;
    if (errors <= 3) say(`booking for ${employeeId}: ${res.status} ${text.slice(0, 300)}`);
  }
}
async function run(ids: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(C, ids.length) }, async () => {
    while (next < ids.length) await book(ids[next++]!);
  }));
  // Until every invite is delivered (the fast path, or the relay for what it left).
  for (;;) {
    // On a connection of its own, so the bench's own polling is not counted as HR's.
    polls++;
    const r = await watcher.query<{ n: string }>(`SELECT count(*)::text AS n FROM hr.outbox WHERE status = 'pending'`);
    if (r.rows[0]!.n === '0') return;
    await sleep(50);
  }
}

async function commits(): Promise<number> {
  const r = await admin.query<{ c: string }>('SELECT xact_commit::text AS c FROM pg_stat_database WHERE datname = $1', [hrDb]);
  return Number(r.rows[0]!.c);
}
/** CPU ms of HR's PostgreSQL backends (utime + stime of each backend of its database, from /proc). */
async function backendCpuMs(): Promise<Map<number, number>> {
  const r = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'hr-bench-watcher'", [hrDb]);
  const tick = 10; // CLK_TCK 100
  const out = new Map<number, number>();
  for (const { pid } of r.rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      // gone
    }
  }
  return out;
}

say(`warm-up: ${W} bookings`);
await run(employees.slice(0, W));
await sleep(300); // pg_stat_database is updated when a backend reports (at most every ~0.5 s idle)
const ids = employees.slice(W, W + N);
const c0 = await commits();
const b0 = await backendCpuMs();
const notif0 = notificationCalls;
const emails0 = notificationEmails;
const polls0 = polls;
const cpu0 = process.cpuUsage();
counting = true;
const t0 = performance.now();
say(`measuring: ${N} bookings, ${C} in flight`);
await run(ids);
const wallMs = performance.now() - t0;
counting = false;
const cpu = process.cpuUsage(cpu0);
const b1 = await backendCpuMs();
await sleep(1200);
const c1 = await commits();
let pgCpuMs = 0;
for (const [pid, ms] of b1) pgCpuMs += ms - (b0.get(pid) ?? 0);

const total = [...statements.values()].reduce((a, b) => a + b, 0);
const per = (n: number) => (n / N).toFixed(2);
const lines = [
  `# HR interview booking alone — ${values.label ?? 'run'} (${new Date().toISOString()})`,
  '',
  `\`node bench/hr-booking.ts --bookings ${N} --concurrency ${C} --warmup ${W}\`: HR in its own database, Notification an HTTP stub, identity in another database. Each booking: POST /api/interviews with the orchestrator's token and Idempotency-Key, then its 2 invites delivered.`,
  '',
  '| per booking | value |',
  '|---|---:|',
  `| statements (round trips) of HR's pool | ${per(total)} |`,
  `| commits of HR's database (pg_stat_database; the bench's own ${polls - polls0} polls taken off) | ${per(c1 - c0 - (polls - polls0))} |`,
  `| HTTP calls to Notification | ${per(notificationCalls - notif0)} |`,
  `| emails handed to Notification | ${per(notificationEmails - emails0)} |`,
  `| CPU of this process (HR + load + stub + identity), ms | ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} |`,
  `| CPU of HR's PostgreSQL backends, ms | ${(pgCpuMs / N).toFixed(2)} |`,
  `| bookings/s (noisy, shared machine) | ${((N * 1000) / wallMs).toFixed(1)} |`,
  `| errors | ${errors} |`,
  '',
  '## Statements, one by one (calls per booking)',
  '',
  '| per booking | statement |',
  '|---:|---|',
  ...[...statements.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${per(v)} | \`${k.replace(/\|/g, '\\|')}\` |`),
  '',
];
const out = path.join('bench', 'results', `${stamp}-hr-booking${values.label ? `-${values.label}` : ''}.md`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, lines.join('\n'));
process.stdout.write(lines.join('\n'));
say(`\nwritten: ${out}`);

await service.stop!();
await app.close();
await pool.end();
await identity.stop();
await idPool.end();
stub.close();
await watcher.end();
await admin.query(`DROP DATABASE ${hrDb} WITH (FORCE)`);
await admin.query(`DROP DATABASE ${idDb} WITH (FORCE)`);
await admin.end();
