/**
 * What an interview's two invites cost Notification, sent as two requests (POST /api/emails each: HR before) or as
 * one batch (POST /api/email-batches: HR now): `npm exec -- node bench/notification-invites.ts [--interviews 150]
 * [--concurrency 8] [--label NAME]`. Both forms in one run, alternated (single, batch, single, batch), on a fresh
 * embedded PostgreSQL with pg_stat_statements, a real SMTP relay in its own process, the use cases called directly
 * (no HTTP, no case lookup or directory read: those are the route's, the same for both forms), each waiting for
 * its delivery.
 *
 * Per interview (2 emails): SQL statements (round trips; BEGIN/COMMIT included), commits (idle subtracted), CPU of
 * this process and of PostgreSQL. Counts are what to compare; CPU only as a ratio within this run.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKysely, createLogger, createPool, migrate, systemClock, type Pool } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { notificationMigrations } from '../packages/notification/src/index.ts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from '../packages/notification/src/db/notification.db.ts';
import type { NotificationContext } from '../packages/notification/src/notification.context.ts';
import { sendEmail, sendEmails } from '../packages/notification/src/send-email/send-email.ts';
import { createSmtpMailer } from '../packages/notification/src/smtp/mailer.ts';
import { createSendSlots } from '../packages/notification/src/deliver-email/send-slots.ts';
import { createSentRecorder } from '../packages/notification/src/deliver-email/record-sent-together.ts';
import { createEmailStore } from '../packages/notification/src/send-email/store-together.ts';
import { createClaimer } from '../packages/notification/src/deliver-email/claim-together.ts';
import { createDeliveries } from '../packages/notification/src/deliver-email/deliveries.ts';
import { dbCounters, isForeignKeyCheck as nested, startBenchServer, statementCounts, statementDelta, type StatementCount } from './postgres.ts';
import { treeCpu, treeCpuDelta } from './proc.ts';
import type { ChildMessage } from './ems-process.ts';

const { values: args } = parseArgs({
  options: {
    interviews: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    label: { type: 'string', default: 'notification-invites' },
  },
});
const N = Number(args.interviews);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const log = createLogger({ level: 'silent' });

const server = await startBenchServer({ statements: true });
const relay = fork(path.join(import.meta.dirname, 'smtp-sink.child.ts'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const smtpUrl = await new Promise<string>((resolve, reject) => {
  relay.once('message', (m: ChildMessage) => (m.type === 'ready' ? resolve(m.url) : reject(new Error(`relay said ${m.type}`))));
  relay.once('error', reject);
});

const ics = (uid: string) => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nSEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
function invites(): api.SendEmailRequest[] {
  const resignationId = randomUUID();
  const interviewId = randomUUID();
  const invite = (name: string, email: string): api.SendEmailRequest => ({
    resignationId,
    purpose: `interview-invite:${interviewId}:0`,
    to: { email, name },
    template: 'exit-interview-invite',
    data: { recipientName: name, employeeName: 'Alice Leaver', hrPartnerName: 'Pat Partner', start: '2027-03-10T09:00:00Z', end: '2027-03-10T09:30:00Z', timezone: 'Europe/Berlin', caseUrl: `https://ems.example/cases/${resignationId}` },
    attachments: [{ filename: 'exit-interview.ics', contentType: 'text/calendar; method=REQUEST', content: ics(`${interviewId}@ems.local`) }],
  });
  return [invite('Alice Leaver', `alice.${resignationId.slice(0, 8)}@acme.example`), invite('Pat Partner', `pat.${resignationId.slice(0, 8)}@acme.example`)];
}

let pool: Pool | undefined;
const results: { mode: string; statements: StatementCount[]; total: number; commits: number; cpuMs: number; pgMs: number }[] = [];
try {
  const db = await server.createDatabase('notification');
  pool = createPool(db.url, { max: 20, name: 'bench-notification-invites' });
  await migrate(pool, NOTIFICATION_SCHEMA, notificationMigrations);
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
    recordSent: createSentRecorder({ db: notificationDb, clock: systemClock }),
    deliveries: createDeliveries(),
    bus: undefined,
  };
  const key = (r: api.SendEmailRequest) => `hr:${r.purpose}:${r.to.email}`;
  const modes = {
    // HR before: one request per invite, both at once.
    single: async () => {
      const sent = await Promise.all(invites().map((r) => sendEmail(ctx, r, key(r), {}, 20_000)));
      if (!sent.every((s) => s.email.status === 'sent')) throw new Error('not sent');
    },
    // HR now: both in one batch.
    batch: async () => {
      const sent = await sendEmails(ctx, invites().map((r) => ({ request: r, idempotencyKey: key(r) })), {}, 20_000);
      if (!sent.every((s) => s.state === 'created' && s.email.status === 'sent')) throw new Error('not sent');
    },
  };
  const run = async (one: () => Promise<void>, count: number) => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await one();
    }));
  };
  await run(modes.single, WARMUP);
  await run(modes.batch, WARMUP);
  await ctx.deliveries.drain();
  const idle0 = await dbCounters(server, db.name);
  await new Promise((r) => setTimeout(r, 2_000));
  const idle1 = await dbCounters(server, db.name);
  const idlePerMs = (idle1.xactCommit - idle0.xactCommit) / (idle1.at - idle0.at);

  for (const mode of ['single', 'batch', 'single', 'batch'] as const) {
    const s0 = await statementCounts(server, db.name);
    const c0 = await dbCounters(server, db.name);
    const pg0 = treeCpu(server.postmasterPid!);
    const cpu0 = process.cpuUsage();
    await run(modes[mode], N);
    await ctx.deliveries.drain();
    const cpu = process.cpuUsage(cpu0);
    const pgS = treeCpuDelta(pg0, treeCpu(server.postmasterPid!));
    const c1 = await dbCounters(server, db.name);
    const statements = statementDelta(s0, await statementCounts(server, db.name));
    results.push({
      mode,
      statements,
      total: statements.filter((s) => !nested(s.query)).reduce((a, s) => a + s.calls, 0) / N,
      commits: (c1.xactCommit - c0.xactCommit - idlePerMs * (c1.at - c0.at)) / N,
      cpuMs: (cpu.user + cpu.system) / 1000 / N,
      pgMs: (pgS * 1000) / N,
    });
    console.error(`${mode}: ${results.at(-1)!.total.toFixed(2)} statements, ${results.at(-1)!.commits.toFixed(2)} commits per interview`);
  }
  const lines = [
    `# Notification: an interview's two invites, two requests vs one batch (${args.label})`,
    '',
    `${new Date().toISOString()} · ${N} interviews per run, alternated · concurrency ${CONCURRENCY} · warm-up ${WARMUP} each · load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    '',
    '| per interview (2 emails) | ' + results.map((r) => r.mode).join(' | ') + ' |',
    '|---|' + results.map(() => '---:').join('|') + '|',
    '| SQL statements (round trips; BEGIN/COMMIT included) | ' + results.map((r) => r.total.toFixed(2)).join(' | ') + ' |',
    '| commits (idle subtracted) | ' + results.map((r) => r.commits.toFixed(2)).join(' | ') + ' |',
    '| CPU ms, this process | ' + results.map((r) => r.cpuMs.toFixed(2)).join(' | ') + ' |',
    '| CPU ms, PostgreSQL | ' + results.map((r) => r.pgMs.toFixed(2)).join(' | ') + ' |',
    '',
    ...results.slice(0, 2).flatMap((r) => [
      `## Statements, ${r.mode} (calls per interview)`,
      '',
      '| calls | statement |',
      '|---:|---|',
      ...r.statements.map((s) => `| ${(s.calls / N).toFixed(2)} | \`${s.query.replace(/\s+/g, ' ').slice(0, 140).replaceAll('|', '\\|')}\` |`),
      '',
    ]),
  ];
  const file = path.join(import.meta.dirname, 'results', `${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}Z-${args.label}.md`);
  await writeFile(file, lines.join('\n') + '\n');
  console.log(lines.slice(0, 11).join('\n'));
  console.log(`\nwritten to ${file}`);
  ctx.mailer.close();
} finally {
  await pool?.end();
  relay.send({ type: 'stop' });
  await server.stop();
}
