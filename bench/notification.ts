/**
 * The cost of one manager notice, Notification alone: `npm exec -- node bench/notification.ts [--emails 300]
 * [--concurrency 16] [--label NAME]`.
 *
 *   fresh embedded PostgreSQL (pg_stat_statements) ─► Notification's schema, the PostgreSQL bus (with a
 *   subscriber of managerNotified, as EMS is in choreography) ─► an SMTP relay in its own process
 *   ─► warm-up, then N × notifyManager (the use case both modes call), each waiting for its delivery
 *
 * Per email: SQL statements (each a round trip, BEGIN/COMMIT included) by statement, commits
 * (pg_stat_database, idle subtracted), CPU of this process (the use case, nodemailer, pg) and of
 * PostgreSQL. No HTTP, no case lookup, no directory read: those belong to the route, not to delivery.
 * Counts are what to compare between runs; CPU only as a ratio within one run on this shared machine.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKysely, createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import { EventSchemas, EventTypes } from '@ems/contracts/events';
import { createPostgresEventBus } from '@ems/eventbus';
import { notificationMigrations } from '../packages/notification/src/index.ts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from '../packages/notification/src/db/notification.db.ts';
import type { NotificationContext } from '../packages/notification/src/notification.context.ts';
import { notifyManager } from '../packages/notification/src/notify-manager/notify-manager.ts';
import { createSmtpMailer } from '../packages/notification/src/smtp/mailer.ts';
import { createSendSlots } from '../packages/notification/src/deliver-email/send-slots.ts';
import { createSentRecorder } from '../packages/notification/src/deliver-email/record-sent-together.ts';
import { createEmailStore } from '../packages/notification/src/send-email/store-together.ts';
import { createClaimer } from '../packages/notification/src/deliver-email/claim-together.ts';
import { createDeliveries } from '../packages/notification/src/deliver-email/deliveries.ts';
import { dbCounters, isForeignKeyCheck as nested, startBenchServer, statementCounts, statementDelta } from './postgres.ts';
import { treeCpu, treeCpuDelta } from './proc.ts';
import type { ChildMessage } from './ems-process.ts';

const { values: args } = parseArgs({
  options: {
    emails: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '16' },
    label: { type: 'string', default: 'notification' },
  },
});
const N = Number(args.emails);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const log = createLogger({ level: 'silent' });

const server = await startBenchServer({ statements: true });
const relay = fork(path.join(import.meta.dirname, 'smtp-sink.child.ts'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const smtpUrl = await new Promise<string>((resolve, reject) => {
  relay.once('message', (m: ChildMessage) => (m.type === 'ready' ? resolve(m.url) : reject(new Error(`relay said ${m.type}`))));
  relay.once('error', reject);
});

let pool: Pool | undefined;
try {
  const db = await server.createDatabase('notification');
  pool = createPool(db.url, { max: 20, name: 'bench-notification' });
  await migrate(pool, NOTIFICATION_SCHEMA, notificationMigrations);
  const bus = createPostgresEventBus({ pool, log, catalogue: { ...EventSchemas } });
  // Someone listens to managerNotified (EMS's tracker in choreography): the outcome's publish inserts a job.
  await bus.subscribe({ name: 'bench.manager-notified', types: [EventTypes.managerNotified], handle: async () => undefined });
  await bus.start();

  const notificationDb = createKysely<NotificationDB>(pool, NOTIFICATION_SCHEMA);
  const ctx: NotificationContext = {
    db: notificationDb,
    pool,
    log,
    clock: systemClock,
    mailer: createSmtpMailer({ url: smtpUrl }),
    from: 'EMS <ems@acme.example>',
    maxAttempts: 8,
    backoff: { baseMs: 30_000, maxMs: 3_600_000, jitter: 0.2 },
    leaseMs: 60_000,
    fastPathTimeoutMs: 20_000,
    sendSlots: createSendSlots(16),
    claimById: createClaimer({ db: notificationDb, clock: systemClock, leaseMs: 60_000 }),
    storeEmails: createEmailStore(notificationDb),
    recordSent: createSentRecorder({ db: notificationDb, clock: systemClock, bus }),
    deliveries: createDeliveries(),
    bus,
  };

  const one = async () => {
    const resignationId = randomUUID();
    const notice = await notifyManager(
      ctx,
      {
        resignationId,
        employee: { id: 'E1001', name: 'Alice Leaver' },
        manager: { name: 'Dana Boss', email: `dana.${resignationId.slice(0, 8)}@acme.example` },
        lastWorkingDay: '2027-03-31',
        reason: 'New job',
      },
      { caseUrl: `https://ems.example/cases/${resignationId}`, origin: { correlationId: resignationId }, waitMs: 20_000 },
    );
    if (notice.outcome !== 'stored' || notice.email.status !== 'sent') throw new Error(`not sent: ${JSON.stringify(notice).slice(0, 300)}`);
  };
  const run = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < count) await one();
      }),
    );
  };

  await run(WARMUP);
  await ctx.deliveries.drain();
  // Idle: the bus's and the pool's own commits while nothing is sent, subtracted below.
  const idle0 = await dbCounters(server, db.name);
  await new Promise((r) => setTimeout(r, 3_000));
  const idle1 = await dbCounters(server, db.name);
  const idleCommitsPerMs = (idle1.xactCommit - idle0.xactCommit) / (idle1.at - idle0.at);

  const s0 = await statementCounts(server, db.name);
  const c0 = await dbCounters(server, db.name);
  const pg0 = treeCpu(server.postmasterPid!);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(N);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pgCpuS = treeCpuDelta(pg0, treeCpu(server.postmasterPid!));
  const c1 = await dbCounters(server, db.name);
  const statements = statementDelta(s0, await statementCounts(server, db.name));

  const per = (x: number) => (x / N).toFixed(2);
  const commits = c1.xactCommit - c0.xactCommit - idleCommitsPerMs * (c1.at - c0.at);
  // Foreign-key checks run inside another statement (pg_stat_statements tracks nested statements here): no round trip.
  const total = statements.filter((s) => !nested(s.query)).reduce((a, s) => a + s.calls, 0);
  const lines = [
    `# Notification alone: ${N} manager notices (${args.label})`,
    '',
    `${new Date().toISOString()} · commit ${process.env.GIT_COMMIT ?? '(see git log)'} · concurrency ${CONCURRENCY} · warm-up ${WARMUP} · load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| per email | value |',
    '|---|---:|',
    `| SQL statements sent (round trips; BEGIN/COMMIT included, nested foreign-key checks not) | ${per(total)} |`,
    `| commits (idle subtracted) | ${per(commits)} |`,
    `| CPU ms, this process (use case + nodemailer + pg) | ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} |`,
    `| CPU ms, PostgreSQL | ${((pgCpuS * 1000) / N).toFixed(2)} |`,
    `| wall ms per email at concurrency ${CONCURRENCY} | ${(ms / N).toFixed(2)} |`,
    '',
    '| calls per email | plans per email | statement |',
    '|---:|---:|---|',
    ...statements.map((s) => `| ${per(s.calls)} | ${per(s.plans)} | ${nested(s.query) ? '(nested FK check) ' : ''}\`${s.query.replace(/\s+/g, ' ').slice(0, 160).replaceAll('|', '\\|')}\` |`),
  ];
  const file = path.join(import.meta.dirname, 'results', `${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}Z-${args.label}.md`);
  await writeFile(file, lines.join('\n') + '\n');
  console.log(lines.join('\n'));
  console.log(`\nwritten to ${file}`);
  await bus.stop();
  ctx.mailer.close();
} finally {
  await pool?.end();
  relay.send({ type: 'stop' });
  await server.stop();
}
