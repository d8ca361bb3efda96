import { DBOS } from '@dbos-inc/dbos-sdk';
import {
  createHttpServer,
  createLogger,
  createPool,
  ensureDatabase,
  freePort,
  migrate,
  offsetClock,
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
import { createNotificationService, NOTIFY_MANAGER_SUBSCRIBER, startCaptureSmtpServer } from '@ems/notification';
import { createHrService, SCHEDULE_INTERVIEW_SUBSCRIBER } from '@ems/hr';
import { createAccessService, SUSPEND_ACCESS_SUBSCRIBER } from '@ems/access';
import type { ZodType } from 'zod';
import { events } from '@ems/contracts';
import { createPostgresEventBus, type EventBus, type EventBusTestHooks, type EventedService } from '@ems/eventbus';
import { createWebhookService } from '@ems/webhooks';
import type { Config } from './config.ts';
import { loadExtensions } from './extensions.ts';
import type { CaseStarter } from './resignations/submit-resignation.ts';
import { createEmsDb, createEmsService } from './ems.service.ts';
import { createCaseStore, TRACKER } from './resignations/case-store.ts';
import { createDirectory } from './directory/directory.ts';
import { createParticipants } from './orchestration/participants.ts';
import { createResignationOrchestrator, orchestrationStarter } from './orchestration/resignation.workflow.ts';
import { createDecisionOrchestrator } from './orchestration/decision.workflow.ts';
import type { CaseDecider } from './resignations/decide-resignation.ts';
import { dbosLogger } from './orchestration/dbos-logger.ts';
import { landingPage } from './landing.http.ts';
import { seedAll, isSeeded } from './seed.ts';

export const VERSION = '0.1.0';

/** The subscribers that make up choreography (the services' reactions and EMS's tracker). */
const CHOREOGRAPHY_SUBSCRIBERS = [NOTIFY_MANAGER_SUBSCRIBER, SCHEDULE_INTERVIEW_SUBSCRIBER, SUSPEND_ACCESS_SUBSCRIBER, TRACKER];

/** Bumped when the workflow's step sequence changes: DBOS recovers only workflows of its own version. */
export const WORKFLOW_VERSION = 'resignation-v2';

export interface RunningEms {
  url: string;
  config: Config;
  pool: Pool;
  app: App;
  log: Logger;
  /** The built-in capture SMTP server, when no EMS_SMTP_URL is configured. */
  smtp: Awaited<ReturnType<typeof startCaptureSmtpServer>> | undefined;
  embedded: EmbeddedPostgres | undefined;
  bus: EventBus & EventBusTestHooks;
  stop(): Promise<void>;
}

/**
 * The composition root of the all-in-one process (the embedded default): one PostgreSQL, one HTTP
 * server carrying every service's API, the orchestrator, and — unless EMS_SMTP_URL says otherwise —
 * a capture SMTP server. Services still talk to each other over HTTP, as they would across processes.
 */
export async function startEms(config: Config, options: { log?: Logger; clock?: Clock; org?: DemoOrg } = {}): Promise<RunningEms> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? (config.clockOffsetMs === undefined ? systemClock : offsetClock(config.clockOffsetMs));
  if (config.clockOffsetMs !== undefined) log.warn({ offsetMs: config.clockOffsetMs, now: clock.now().toISOString() }, 'EMS_CLOCK_OFFSET: EMS runs on a shifted clock (drills and tests only)');
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const [i, fn] of [...cleanup.entries()].reverse()) {
      const t0 = Date.now();
      try {
        await fn();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
      if (Date.now() - t0 > 1_000) log.warn({ step: i, ms: Date.now() - t0 }, 'slow shutdown step');
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

    // One bus in both modes: services always publish what they did (webhooks and extensions listen);
    // only in choreography do the core services also react to events.
    const catalogue: Record<string, ZodType> = { ...events.EventSchemas };
    const bus = createPostgresEventBus({
      pool,
      log: log.child({ component: 'bus' }),
      catalogue,
      defaultRetry: { maxAttempts: config.bus.maxAttempts, backoffMs: config.bus.backoffMs },
      // A delivery held by a process that died comes back after this; handlers take seconds at most.
      handlerTimeoutSeconds: 30,
    });
    const choreography = config.mode === 'choreography';
    const caseUrl = (id: string) => `${publicUrl}/api/resignations/${id}`;

    const notification = createNotificationService({
      pool,
      log: log.child({ service: 'notification' }),
      clock,
      smtpUrl,
      from: config.smtpFrom,
      retryBaseMs: config.smtpRetryBaseMs,
      bus,
      reactToEvents: choreography,
      caseUrl,
    });
    const hr = createHrService({ pool, log: log.child({ service: 'hr' }), clock, notificationUrl: urls.notification, bus, reactToEvents: choreography });
    const access = createAccessService({ pool, log: log.child({ service: 'access' }), clock, bus, reactToEvents: choreography });

    const store = createCaseStore(createEmsDb(pool), clock, { bus, stepDeadlineSeconds: config.stepDeadlineSeconds });
    const participants = createParticipants(() => urls);
    let starter: CaseStarter;
    let decider: CaseDecider;
    if (choreography) {
      // Choreography: the case and its `resignation submitted` event are written in one transaction; that is all EMS does.
      // A decision likewise: the case's new status and its event, in one transaction.
      starter = { mode: 'choreography', start: (draft) => store.open(draft) };
      decider = { decide: (id, input) => store.decide(id, input) };
    } else {
      const decisions = createDecisionOrchestrator({
        store,
        participants,
        retry: config.step,
        clock,
        policy: config.followUps,
        caseUrl,
        log: log.child({ service: 'orchestrator' }),
      });
      starter = orchestrationStarter(
        createResignationOrchestrator({ store, participants, retry: config.step, caseUrl, log: log.child({ service: 'orchestrator' }), startDecisionPhase: decisions.start }),
      );
      decider = { decide: (id, input) => decisions.decide(id, input) };
    }

    const extensions = await loadExtensions(config.extensions, { pool, log, clock, bus, env: process.env });
    for (const ext of extensions) Object.assign(catalogue, ext.events ?? {});
    const webhooks = createWebhookService({ pool, log: log.child({ service: 'webhooks' }), clock, bus, catalogue, ...config.webhooks });

    const emsService = createEmsService({
      store,
      clock,
      noticeDays: config.noticeDays,
      directory: createDirectory(createEmsDb(pool)),
      starter,
      decider,
      bus,
      // EMS follows every event about a case (its own `submitted` is on the timeline already).
      trackedTypes: choreography ? () => Object.keys(catalogue).filter((t) => t !== events.EventTypes.resignationSubmitted) : undefined,
      catalogue,
      sweepEveryMs: Math.min(5_000, Math.max(200, (config.stepDeadlineSeconds * 1000) / 4)),
      log: log.child({ service: 'ems' }),
    });
    const services: Array<ServiceModule<DemoOrg> & EventedService> = [notification, hr, access, emsService, webhooks, ...extensions];

    for (const s of services) await migrate(pool, s.schema, s.migrations);
    if (config.seed && !(await isSeeded(pool))) {
      await seedAll(pool, services, options.org ?? demoOrg());
      log.info('demo organisation seeded');
    }

    const started: ServiceModule<DemoOrg>[] = [];

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
    for (const s of services) for (const sub of s.subscriptions ?? []) await bus.subscribe(sub);
    if (!choreography) {
      // A database that ran in choreography before keeps its routing; orchestration must not let the
      // reactions' queues fill up with events nobody will consume.
      for (const name of CHOREOGRAPHY_SUBSCRIBERS) await bus.unsubscribe(name);
    }

    if (!choreography) {
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
    }
    // Reversed, shutdown runs: HTTP, service workers (webhook deliveries abort), bus consumers, DBOS, pool, SMTP, PostgreSQL.
    cleanup.push(() => bus.stop());
    cleanup.push(async () => {
      for (const s of started.reverse()) await s.stop?.();
    });
    cleanup.push(() => app.close());

    // The bus first: a request may publish as soon as the server listens.
    await bus.start();
    await app.listen({ port, host: config.host });
    for (const s of services) {
      await s.start?.();
      started.push(s);
    }

    return { url: selfUrl, config, pool, app, log, smtp, embedded, bus, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
