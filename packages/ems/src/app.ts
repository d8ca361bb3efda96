import { DBOS } from '@dbos-inc/dbos-sdk';
import {
  createHttpServer,
  createLogger,
  createPool,
  ensureDatabase,
  freePort,
  migrate,
  startEmbeddedPostgres,
  systemClock,
  type App,
  type Clock,
  type EmbeddedPostgres,
  type Logger,
  type Pool,
  type ServiceModule,
} from '@ems/platform';
import { demoOrg, type DemoOrg } from '@ems/demo-org';
import { createNotificationService, startCaptureSmtpServer } from '@ems/notification';
import { createHrService } from '@ems/hr';
import { createAccessService } from '@ems/access';
import type { Config } from './config.ts';
import { createEmsDb, createEmsService } from './ems.service.ts';
import { createCaseStore } from './resignations/case-store.ts';
import { createParticipants } from './orchestration/participants.ts';
import { createResignationOrchestrator } from './orchestration/resignation.workflow.ts';
import { dbosLogger } from './orchestration/dbos-logger.ts';
import { landingPage } from './landing.http.ts';
import { seedAll, isSeeded } from './seed.ts';

export const VERSION = '0.1.0';

/** Bumped when the workflow's step sequence changes: DBOS recovers only workflows of its own version. */
export const WORKFLOW_VERSION = 'resignation-v1';

export interface RunningEms {
  url: string;
  config: Config;
  pool: Pool;
  app: App;
  log: Logger;
  /** The built-in capture SMTP server, when no EMS_SMTP_URL is configured. */
  smtp: Awaited<ReturnType<typeof startCaptureSmtpServer>> | undefined;
  embedded: EmbeddedPostgres | undefined;
  stop(): Promise<void>;
}

/**
 * The composition root of the all-in-one process (the embedded default): one PostgreSQL, one HTTP
 * server carrying every service's API, the orchestrator, and — unless EMS_SMTP_URL says otherwise —
 * a capture SMTP server. Services still talk to each other over HTTP, as they would across processes.
 */
export async function startEms(config: Config, options: { log?: Logger; clock?: Clock; org?: DemoOrg } = {}): Promise<RunningEms> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
    cleanup.length = 0;
  };

  try {
    let embedded: EmbeddedPostgres | undefined;
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'ems' });
      cleanup.push(() => embedded!.stop());
      databaseUrl = embedded.url;
      log.info({ dataDir: config.dataDir, port: embedded.port }, 'embedded PostgreSQL started');
    } else {
      await ensureDatabase(databaseUrl);
    }

    let smtp: RunningEms['smtp'];
    let smtpUrl = config.smtpUrl;
    if (!smtpUrl) {
      smtp = await startCaptureSmtpServer({ port: 0 });
      cleanup.push(() => smtp!.stop());
      smtpUrl = smtp.url;
      log.info({ url: smtp.url }, 'capture SMTP server started (set EMS_SMTP_URL to deliver real mail)');
    }

    const pool = createPool(databaseUrl, { max: 20, name: 'ems' });
    cleanup.push(() => pool.end());

    const port = config.port === 0 ? await freePort() : config.port;
    const selfUrl = `http://127.0.0.1:${port}`;
    const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
    const urls = {
      notification: config.serviceUrls.notification ?? selfUrl,
      hr: config.serviceUrls.hr ?? selfUrl,
      access: config.serviceUrls.access ?? selfUrl,
    };

    // SMTP retries start at 2 s (then 4, 8, … s): an outage of the mail server delays mail by seconds, not minutes.
    const notification = createNotificationService({ pool, log: log.child({ service: 'notification' }), clock, smtpUrl, from: config.smtpFrom, retryBaseMs: 2_000 });
    const hr = createHrService({ pool, log: log.child({ service: 'hr' }), clock, notificationUrl: urls.notification });
    const access = createAccessService({ pool, log: log.child({ service: 'access' }), clock });

    const store = createCaseStore(createEmsDb(pool), clock);
    const participants = createParticipants(() => urls);
    const orchestrator = createResignationOrchestrator({
      store,
      participants,
      retry: config.step,
      caseUrl: (id) => `${publicUrl}/api/resignations/${id}`,
      log: log.child({ service: 'orchestrator' }),
    });
    const emsService = createEmsService({
      store,
      clock,
      noticeDays: config.noticeDays,
      directory: participants,
      starter: { mode: 'orchestration', start: (draft) => orchestrator.start(draft) },
    });
    const services: ServiceModule<DemoOrg>[] = [notification, hr, access, emsService];

    for (const s of services) await migrate(pool, s.schema, s.migrations);
    if (config.seed && !(await isSeeded(pool))) {
      await seedAll(pool, services, options.org ?? demoOrg());
      log.info('demo organisation seeded');
    }

    // Registered now so that, reversed, shutdown runs: HTTP, DBOS, workers, pool, SMTP, PostgreSQL.
    const started: ServiceModule<DemoOrg>[] = [];
    cleanup.push(async () => {
      for (const s of started.reverse()) await s.stop?.();
    });

    const app = await createHttpServer({
      title: 'EMS — Exit Management System',
      version: VERSION,
      description: 'Resignation intake and tracking (EMS), Notification, HR and Access APIs.',
      logger: log,
      plugins: [...services.map((s) => s.routes), landingPage],
      readiness: {
        database: async () => {
          await pool.query('SELECT 1');
        },
        // Each service names its own checks (e.g. `notification.smtp`).
        ...Object.fromEntries(services.flatMap((s) => Object.entries(s.readiness ?? {}))),
      },
    });
    DBOS.setConfig({
      name: 'ems',
      systemDatabaseUrl: databaseUrl,
      systemDatabaseSchemaName: 'dbos',
      systemDatabasePoolSize: 20,
      runAdminServer: false,
      applicationVersion: WORKFLOW_VERSION,
      logger: dbosLogger(log.child({ component: 'dbos' })),
    });
    await DBOS.launch();
    cleanup.push(() => DBOS.shutdown({ deregister: true }));
    cleanup.push(() => app.close());

    await app.listen({ port, host: config.host });
    for (const s of services) {
      await s.start?.();
      started.push(s);
    }

    return { url: selfUrl, config, pool, app, log, smtp, embedded, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
