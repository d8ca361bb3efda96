/**
 * What every acceptance suite starts: a throwaway database, a real SMTP sink, a proxy in front of
 * Notification (tests can cut it), and EMS in the given mode with short retry and deadline clocks.
 */
import { inject } from 'vitest';
import type { DemoOrg, Employee } from '@ems/demo-org';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { freePort, type Clock } from '@ems/platform';
import { loadConfig, startEms, type RunningEms } from '@ems/server';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { startProxy, type Proxy } from '../support/proxy.ts';
import { natsTestUrl, removeNatsStreams, testNatsPrefix } from '@ems/eventbus/testing';
import { TEST_SECRETS_KEY } from '@ems/identity/testing';

export { http, tokenFor, HR_LEAD, ACCESS_ADMIN, OPERATOR } from '../support/auth.ts';

export interface AcceptanceEnv {
  db: TestDatabase;
  smtp: SmtpSink;
  proxy: Proxy;
  ems: RunningEms;
  base: string;
  stop(): Promise<void>;
}

export type AcceptanceBus = 'postgres' | 'nats';

export async function startAcceptanceEms(
  mode: 'orchestration' | 'choreography',
  name: string,
  /** notificationProxy false: no proxy in front of Notification (served by EMS's own process, as in the embedded default). */
  options: { clock?: Clock; env?: Record<string, string>; bus?: AcceptanceBus; notificationProxy?: boolean } = {},
): Promise<AcceptanceEnv> {
  const db = await createTestDatabase(inject('testServerUrl'), name);
  // NATS: streams under a prefix of this run's own, deleted afterwards.
  const natsPrefix = options.bus === 'nats' ? testNatsPrefix(name) : undefined;
  const natsEnv: Record<string, string> = natsPrefix ? { EMS_BUS: 'nats', EMS_NATS_URL: natsTestUrl(), EMS_NATS_PREFIX: natsPrefix, EMS_NATS_ACK_WAIT: '5s' } : {};
  const smtp = await startSmtpSink();
  const port = await freePort();
  // Every call to Notification (from the orchestrator and from HR) goes through a proxy the tests control.
  const proxy = await startProxy(() => port, await freePort());
  const config = loadConfig({
    EMS_PORT: String(port),
    EMS_MODE: mode,
    EMS_DATABASE_URL: db.url,
    EMS_SMTP_URL: smtp.url,
    ...(options.notificationProxy === false ? {} : { EMS_NOTIFICATION_URL: proxy.url }),
    EMS_LOG_LEVEL: 'warn',
    // A fixed key (secrets are encrypted with it; the built-in provider derives its clients' secrets from it).
    EMS_SECRETS_KEY: TEST_SECRETS_KEY,
    // Short retry and deadline clocks, so failure paths play out in seconds.
    EMS_STEP_MAX_ATTEMPTS: '7',
    EMS_STEP_RETRY_INTERVAL_MS: '150',
    EMS_SMTP_RETRY_BASE_MS: '150',
    EMS_BUS_MAX_ATTEMPTS: '4',
    EMS_BUS_RETRY_BACKOFF_MS: '100',
    EMS_STEP_DEADLINE_SECONDS: '2',
    // The fifth service joins by configuration only (in both modes).
    EMS_EXTENSIONS: '@ems/assets',
    // The test's webhook receiver listens on loopback.
    EMS_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    // Choreography: EMS must not call HR or Access at all — point it at a port where nothing listens.
    ...(mode === 'choreography' ? { EMS_HR_URL: 'http://127.0.0.1:9', EMS_ACCESS_URL: 'http://127.0.0.1:9' } : {}),
    ...natsEnv,
    ...options.env,
  });
  const ems = await startEms(config, options.clock ? { clock: options.clock } : {});
  return {
    db,
    smtp,
    proxy,
    ems,
    base: ems.url,
    async stop() {
      await ems.stop();
      await proxy.stop();
      await smtp.stop();
      await db.drop();
      if (natsPrefix) await removeNatsStreams(natsTestUrl(), natsPrefix);
    },
  };
}

/**
 * Employees with a manager and at least one critical and one non-critical grant, handed out one per
 * call so every test has its own.
 */
export function employeePicker(org: DemoOrg) {
  const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));
  const candidates = org.employees.filter(
    (e) => e.managerId && org.grants.some((g) => g.employeeId === e.id && critical.has(g.systemId)) && org.grants.some((g) => g.employeeId === e.id && !critical.has(g.systemId)),
  );
  let next = 0;
  return {
    takeEmployee: (): Employee => {
      const e = candidates[next++];
      if (!e) throw new Error(`the demo organisation has only ${candidates.length} suitable employees`);
      return e;
    },
    managerOf: (e: Employee): Employee => org.employees.find((m) => m.id === e.managerId)!,
  };
}
