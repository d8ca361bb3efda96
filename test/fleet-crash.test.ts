/**
 * Scale-out crash test, in both modes: the fleet (one OS process per service, `ems start --fleet`) on
 * the machine's PostgreSQL and a NATS server of the test's own. 200 resignations are submitted; at a
 * random moment one service process is killed with SIGKILL (the fleet's supervisor restarts it), and a
 * little later the NATS server is killed and restarted. Every case must complete with exactly one manager
 * notice (counted at the SMTP server), one interview and every critical grant suspended.
 *
 * Prints the figures the README quotes: cases, kills, lost, duplicated, time to recover.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { checkNats, checkNatsServerBinary, removeNatsStreams, startNatsServer, testNatsPrefix, type NatsTestServer } from '@ems/eventbus/testing';
import { createTestDatabase, freePortRange, sleep, waitFor, type TestDatabase } from '@ems/platform/testing';
import { http, TEST_AUTH_ENV } from './support/auth.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';
import { emsProcesses, type EmsProcess } from './support/ems-process.ts';

const CASES = 200;
const nats = await checkNats();
const natsBinary = checkNatsServerBinary();
const skip = nats.skip || natsBinary.skip;

/** The children of a process, with the services their environment names. */
function fleetProcesses(launcherPid: number): Array<{ pid: number; service: string }> {
  const out: Array<{ pid: number; service: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid !== launcherPid) continue;
      const service = /(?:^|\0)EMS_SERVICES=([^\0]*)/.exec(readFileSync(`/proc/${entry}/environ`, 'utf8'))?.[1];
      if (service) out.push({ pid: Number(entry), service });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.skipIf(skip)('fleet crash test', () => {
describe.each(['orchestration', 'choreography'] as const)('%s', (mode) => {
  let db: TestDatabase;
  let smtp: SmtpSink;
  let natsServer: NatsTestServer;
  const processes = emsProcesses();
  let launcher: EmsProcess | undefined;
  const prefix = testNatsPrefix(`crash${mode.slice(0, 5)}`);

  beforeAll(async () => {
    nats.assertAvailable();
    natsBinary.assertAvailable();
    db = await createTestDatabase(inject('testServerUrl'), `fleet${mode.slice(0, 5)}`);
    smtp = await startSmtpSink();
    natsServer = await startNatsServer();
  });
  afterAll(async () => {
    await launcher?.stop();
    processes.killAll();
    await smtp?.stop();
    if (natsServer?.running) await removeNatsStreams(natsServer.url, prefix).catch(() => undefined);
    await natsServer?.dispose();
    await db?.drop();
  });

  it(`when a service process is killed and NATS restarts with ${CASES} resignations in flight, then every case completes exactly once`, async () => {
    const port = await freePortRange(8);
    const base = `http://127.0.0.1:${port}`;
    launcher = await processes.start(
      {
        EMS_MODE: mode,
        EMS_PORT: String(port),
        EMS_DATABASE_URL: db.url,
        EMS_SMTP_URL: smtp.url,
        EMS_BUS: 'nats',
        EMS_NATS_URL: natsServer.url,
        EMS_NATS_PREFIX: prefix,
        EMS_NATS_ACK_WAIT: '5s',
        EMS_SEED_EMPLOYEES: String(CASES + 60),
        EMS_SMTP_RETRY_BASE_MS: '250',
        EMS_STEP_RETRY_INTERVAL_MS: '250',
        EMS_STEP_MAX_ATTEMPTS: '40',
        EMS_BUS_MAX_ATTEMPTS: '20',
        EMS_BUS_RETRY_BACKOFF_MS: '250',
        EMS_LOG_LEVEL: 'warn',
      ...TEST_AUTH_ENV,
      },
      { args: ['start', '--fleet'], readyText: 'EMS fleet is up', timeoutMs: 180_000 },
    );
    const fleet = launcher;
    const log = fleet.output();
    const ports = Object.fromEntries([...log.matchAll(/(\w+)-1:(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));

    const employees = demoOrg(CASES + 60)
      .employees.filter((e) => e.managerId)
      .slice(0, CASES);
    expect(employees).toHaveLength(CASES);

    // Submit with bounded concurrency; a client retries (same Idempotency-Key) while the gateway says the service is down.
    const ids = new Map<string, string>();
    let submitted = 0;
    const submitOne = async (employeeId: string) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          const res = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId }, { 'idempotency-key': `fleet-crash-${mode}-${employeeId}` });
          if (res.status === 201 || res.status === 200 || res.status === 202) {
            ids.set(employeeId, res.body.id);
            submitted++;
            return;
          }
          if (res.status < 500) throw new Error(`POST for ${employeeId} answered ${res.status}: ${JSON.stringify(res.body)}`);
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('POST for')) throw err;
        }
        if (Date.now() > deadline) throw new Error(`could not submit for ${employeeId}`);
        await sleep(250);
      }
    };
    const queue = employees.map((e) => e.id);
    const workers = Array.from({ length: 8 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await submitOne(next);
    });

    // The chaos: one service process killed at a random moment, then the NATS server.
    const victims = ['ems', 'notification', 'hr', 'access'];
    const victim = victims[Math.floor(Math.random() * victims.length)]!;
    const chaos = (async () => {
      await waitFor(async () => (submitted >= 20 + Math.floor(Math.random() * 60) ? true : undefined), 'submissions under way', 120_000);
      const target = fleetProcesses(fleet.child.pid ?? -1).find((p) => p.service === victim);
      expect(target, `a ${victim} process`).toBeDefined();
      process.kill(target!.pid, 'SIGKILL');
      const killedAt = Date.now();
      const killedWhen = submitted;
      await sleep(3_000);
      await natsServer.restart('SIGKILL');
      const natsRestartedAt = Date.now();
      // Back: the restarted process answers ready again.
      await waitFor(async () => {
        const r = await fetch(`http://127.0.0.1:${ports[victim]}/readyz`).catch(() => undefined);
        return r?.ok ? true : undefined;
      }, `${victim} to be ready again`, 120_000);
      return { killedAt, killedWhen, readyAgainMs: Date.now() - killedAt, natsRestartedAt };
    })();
    await Promise.all(workers);
    const c = await chaos;
    expect(ids.size).toBe(CASES);

    // Every case completes.
    const completed = await waitFor(
      async () => {
        const r = await http<{ items: Array<{ id: string }> }>(base, 'GET', '/api/resignations?status=awaiting_decision&limit=500');
        return r.body.items.length >= CASES ? r.body.items : undefined;
      },
      `all ${CASES} cases to complete`,
      400_000,
    );
    const allDoneMs = Date.now() - c.killedAt;
    expect(new Set(completed.map((x) => x.id))).toEqual(new Set(ids.values()));

    // Exactly once: one manager notice per case at the SMTP server (a resend would carry the same
    // Message-ID — counted, and distinct notices must be one), one interview, all critical grants suspended.
    await sleep(1_000);
    const org = demoOrg(CASES + 60);
    const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
    let duplicated = 0;
    for (const e of employees) {
      const id = ids.get(e.id)!;
      const emails = (await http<{ items: Array<{ id: string; purpose: string; messageId: string | null }> }>(base, 'GET', `/api/emails?resignationId=${id}&limit=50`)).body.items;
      const notices = emails.filter((m) => m.purpose === 'manager-notice');
      expect(notices, `manager notice rows of ${e.id}`).toHaveLength(1);
      const delivered = smtp.messages.filter((m) => m.headers.get('x-ems-email-id') === notices[0]!.id);
      expect(delivered.length, `deliveries of the notice of ${e.id}`).toBeGreaterThanOrEqual(1);
      expect(new Set(delivered.map((m) => m.messageId)).size, `distinct notices of ${e.id}`).toBe(1);
      duplicated += delivered.length - 1;
      const interviews = (await http<{ items: Array<{ status: string }> }>(base, 'GET', `/api/interviews?resignationId=${id}`)).body.items;
      expect(interviews.filter((i) => i.status === 'scheduled'), `interviews of ${e.id}`).toHaveLength(1);
      const access = (await http<{ items: Array<{ system: string; status: string }> }>(base, 'GET', `/api/employees/${e.id}/access`)).body.items;
      for (const g of access) expect(g.status, `${e.id} ${g.system}`).toBe(critical.has(g.system) ? 'suspended' : 'active');
    }
    console.info(
      `fleet crash (${mode}, NATS): ${CASES} cases; killed ${victim} (SIGKILL) after ${c.killedWhen} submissions and restarted NATS 3 s later; ` +
        `lost 0, duplicated ${duplicated} (same Message-ID resends); ${victim} ready again ${(c.readyAgainMs / 1000).toFixed(1)} s after the kill; ` +
        `all cases complete ${(allDoneMs / 1000).toFixed(1)} s after it`,
    );

    expect(await launcher.stop()).toBe(0);
  }, 900_000);
});
});
