import { tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigError,
  createHttpServer,
  createLogger,
  createPool,
  ensureDatabase,
  freePort,
  httpCaseLookup,
  injectTransport,
  migrate,
  offsetClock,
  quoteIdent,
  startEmbeddedPostgres,
  systemClock,
  type App,
  type Clock,
  type EmbeddedPostgres,
  type Logger,
  type Pool,
  type ServiceModule,
  backoffDelay,
} from '@ems/platform';
import { demoOrg, type DemoOrg } from '@ems/demo-org';
import { ANNOUNCE_DECISION_SUBSCRIBER, createNotificationService, NOTIFY_MANAGER_SUBSCRIBER, openMaildir, startCaptureSmtpServer, type Maildir, TELL_EXIT_SUBSCRIBER } from '@ems/notification';
import { CANCEL_INTERVIEW_SUBSCRIBER, createHrService, FOLLOW_UP_SUBSCRIBER, SCHEDULE_INTERVIEW_SUBSCRIBER } from '@ems/hr';
import { createAccessService, RESTORE_ACCESS_FORMER_NAMES, RESTORE_ACCESS_SUBSCRIBER, loadSystemsFile, SCHEDULE_REVOCATION_SUBSCRIBER, SUSPEND_ACCESS_SUBSCRIBER, SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER, SystemsFileError, type SystemConfig } from '@ems/access';
import type { ZodType } from 'zod';
import { AppPaths, appUrl, events } from '@ems/contracts';
import { createNatsEventBus, createPostgresEventBus, installEventBus, type EventBus, type EventBusTestHooks, type EventedService } from '@ems/eventbus';
import { createWebhookService } from '@ems/webhooks';
import { SERVICE_NAMES, type Config, type ServiceName } from './config.ts';
import { loadExtensions } from './extensions.ts';
import {
  CHOREOGRAPHY_SUBSCRIBERS,
  choreographyExitStarter,
  choreographyMode,
  createDirectory,
  createEmsDb,
  createEmsService,
  createExitBatchStore,
  createExitsOrchestrator,
  createParticipants,
  dbosLogger,
  exitRoutes,
  inProcessCaseLookup,
  ORCHESTRATION_SUBSCRIBERS,
  orchestrationExitStarter,
  orchestrationMode,
  RECORD_EXIT_REVOCATIONS_SUBSCRIBER,
  recordExitRevocations,
  TRACK_EXITS_SUBSCRIBER,
  trackExitsWhenReported,
  type CoordinationMode,
} from '@ems/ems';
import { webApp } from './web-app.http.ts';
import { seedAll, isSeeded } from './seed.ts';
import { setupAuth, type AuthSetup } from './auth-setup.ts';
import { createDirectoryReader, identitySchemaModule } from '@ems/identity';
import { BUS_SCHEMA, databaseAccessFor, ensureRolesFor, extensionService, installWorkflowSchema, WORKFLOW_SCHEMA, type DatabaseAccess } from './database-roles.ts';

export const VERSION = '0.1.0';

export { WORKFLOW_VERSION } from '@ems/ems';

/** The participants' reactions in choreography (with EMS's tracker, what makes up choreography on the bus). */
const PARTICIPANT_REACTIONS = [
  NOTIFY_MANAGER_SUBSCRIBER,
  SCHEDULE_INTERVIEW_SUBSCRIBER,
  SUSPEND_ACCESS_SUBSCRIBER,
  SUSPEND_ACCESS_FOR_EXIT_SUBSCRIBER,
  ANNOUNCE_DECISION_SUBSCRIBER,
  CANCEL_INTERVIEW_SUBSCRIBER,
  FOLLOW_UP_SUBSCRIBER,
  RESTORE_ACCESS_SUBSCRIBER,
  // Its former name (a database upgraded from before the rename may still route events to it).
  ...RESTORE_ACCESS_FORMER_NAMES,
  SCHEDULE_REVOCATION_SUBSCRIBER,
  TELL_EXIT_SUBSCRIBER,
];

export interface RunningEms {
  url: string;
  config: Config;
  pool: Pool;
  /** The pool each service's own code uses (as the service's database role where this process owns the database). */
  database: DatabaseAccess;
  app: App;
  log: Logger;
  /** The built-in capture SMTP server, when no EMS_SMTP_URL is configured. */
  smtp: Awaited<ReturnType<typeof startCaptureSmtpServer>> | undefined;
  embedded: EmbeddedPostgres | undefined;
  bus: EventBus & EventBusTestHooks;
  /** The trust boundary: settings, policy, security (tests read the provider's settings from here). */
  auth: AuthSetup;
  /**
   * A barrier for tests that move the clock: resolves once each timer of this process that acts on the
   * clock (Access's revocation timer; HR's follow-up timer in choreography) has looked at it since the call.
   */
  timers: { drained(): Promise<void> };
  stop(): Promise<void>;
}

/**
 * The composition root. By default one process runs everything (the embedded default): one PostgreSQL,
 * one HTTP server carrying every service's API, the orchestrator, and — unless EMS_SMTP_URL says
 * otherwise — a capture SMTP server. With EMS_SERVICES (`ems start --service …`) a process runs only
 * the services named, against an external PostgreSQL, reaching the others through their URLs. Services
 * talk to each other over HTTP either way.
 *
 * Start-up order: the HTTP server listens first (so /healthz and /readyz answer), then the external
 * dependencies are reached — retried with backoff while they are down, /readyz saying why — and only then
 * do subscriptions, workflows and workers start. Requests to /api before that answer 503.
 */
export async function startEms(config: Config, options: { log?: Logger; clock?: Clock; org?: DemoOrg } = {}): Promise<RunningEms> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? (config.clockOffsetMs === undefined ? systemClock : offsetClock(config.clockOffsetMs));
  if (config.clockOffsetMs !== undefined) log.warn({ offsetMs: config.clockOffsetMs, now: clock.now().toISOString() }, 'EMS_CLOCK_OFFSET: EMS runs on a shifted clock (drills and tests only)');
  const hosts = (s: ServiceName) => config.services.includes(s);
  const allInOne = SERVICE_NAMES.every(hosts);
  /**
   * Without a replica name this process is the only one running its services on this database (replicas
   * are named: EMS_REPLICA_ID): whatever its services held in flight at start — bus deliveries, leased
   * emails and invites — was held by its predecessor, killed, and is resumed at once, not when its lease ends.
   */
  const soleWorker = config.replicaId === undefined;
  const cleanup: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
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
    const port = config.port === 0 ? await freePort() : config.port;
    const selfUrl = `http://127.0.0.1:${port}`;
    const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
    const urls = serviceUrls(config, selfUrl);
    // Calls from one service to another served in this process (the orchestrator's to the participants, HR's to
    // Notification) go into this process's server without a socket (platform's injectTransport): the server is built
    // below, and told of here once it listens.
    const served: { app?: App } = {};
    const transport = injectTransport(() => served.app, selfUrl);
    const choreography = config.mode === 'choreography';
    // Links in emails open the app's page of the case (never the API's JSON).
    const caseUrl = (id: string) => appUrl(publicUrl, AppPaths.case(id));

    let embedded: EmbeddedPostgres | undefined;
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      if (!allInOne) throw new ConfigError(['EMS_DATABASE_URL: required when this process runs only some services (EMS_SERVICES / --service)']);
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'ems' });
      cleanup.push(() => embedded!.stop());
      databaseUrl = embedded.socketUrl;
      log.info({ dataDir: config.dataDir, port: embedded.port }, 'embedded PostgreSQL started');
    }

    let smtp: RunningEms['smtp'];
    let maildir: Maildir | undefined;
    let smtpUrl = config.smtpUrl;
    if (!smtpUrl && hosts('notification')) {
      // The mailbox: kept in the embedded data directory across restarts; with an external database (tests), for this run only.
      maildir = await openMaildir({ dir: embedded ? path.join(config.dataDir, 'mailbox') : await mkdtemp(path.join(tmpdir(), 'ems-mailbox-')) });
      if (!embedded) cleanup.push(() => rm(maildir!.dir, { recursive: true, force: true }));
      smtp = await startCaptureSmtpServer({ port: 0, maildir });
      cleanup.push(() => smtp!.stop());
      smtpUrl = smtp.url;
      log.info({ url: smtp.url }, 'capture SMTP server started (set EMS_SMTP_URL to deliver real mail)');
    }

    // The admin's (the URL's user): migrations, roles, seeding — closed once started. Lazy, like every pool.
    const setup = createPool(databaseUrl, { max: 2, name: 'ems-admin' });
    let setupOpen = true;
    const endSetup = async () => {
      if (!setupOpen) return;
      setupOpen = false;
      await setup.end();
    };
    cleanup.push(endSetup);
    // Also the admin's, never used by the process itself: tests and tools reach every table through it.
    const pool = createPool(databaseUrl, { max: 2, name: 'ems-admin' });
    cleanup.push(() => pool.end());
    // Everything the process does at run time logs in as a role that is no superuser (database-roles.ts).
    const { access: database, password: rolePasswordOf } = databaseAccessFor(config, databaseUrl, allInOne, log);
    cleanup.push(() => database.end());
    // The bus's own work (queues, outbox relay, dead letters) and readiness.
    const shared = database.shared();

    // One bus in both modes: services always publish what they did (webhooks and extensions listen);
    // only in choreography do the core services also react to events.
    const catalogue: Record<string, ZodType> = { ...events.EventSchemas };
    const busLog = log.child({ component: 'bus', adapter: config.bus.adapter });
    const defaultRetry = { maxAttempts: config.bus.maxAttempts, backoffMs: config.bus.backoffMs };
    const bus =
      config.bus.adapter === 'nats'
        ? createNatsEventBus({
            servers: config.bus.nats.servers,
            prefix: config.bus.nats.prefix,
            pool: shared,
            install: false,
            log: busLog,
            catalogue,
            defaultRetry,
            ackWaitMs: config.bus.nats.ackWaitMs,
            // No replicas: what its consumers hold at start was this process's before it was killed — delivered again at once.
            resumeHeld: soleWorker,
            connectionName: `ems ${config.services.join('+')}${config.replicaId ? ` ${config.replicaId}` : ''}`,
          })
        : createPostgresEventBus({
            pool: shared,
            install: false,
            log: busLog,
            catalogue,
            defaultRetry,
            // A delivery held by a replica that died comes back after this; handlers take seconds at most.
            handlerTimeoutSeconds: Math.ceil(config.bus.handlerTimeoutMs / 1000),
            // No replicas: what is in flight at start was this process's before it was killed — resumed at once.
            resumeHeldJobs: soleWorker,
          });

    // Extensions: hosted where `extensions` runs; EMS also reads their event catalogue to track their events.
    const extensions = hosts('extensions') || hosts('ems') || hosts('webhooks') ? await loadExtensions(config.extensions, { pool: (module) => database.forService(extensionService(module)), log, clock, bus, env: process.env }) : [];
    for (const ext of extensions) Object.assign(catalogue, ext.events ?? {});

    const auth = setupAuth(config, { pool: database.forService('identity'), log, selfUrl, publicUrl, extensionPolicies: extensions.map((e) => e.policy ?? {}), bus });

    // Notification, HR and Access check with EMS that a case exists: EMS hosted here (and not told to ask
    // another) answers them in this process, one read per case for all three; otherwise each asks over HTTP
    // with its own service token.
    const localCases = hosts('ems') && !config.serviceUrls.cases ? inProcessCaseLookup(createEmsDb(database.forService('ems'))) : undefined;
    const casesOf = (service: 'notification' | 'hr' | 'access') => localCases ?? httpCaseLookup({ casesUrl: urls.cases, auth: auth.callAuth(service) });

    const services: Array<ServiceModule<DemoOrg> & EventedService> = [];
    /** The timers that act on the clock, for RunningEms.timers. */
    const clockTimers: Array<{ drained(): Promise<void> }> = [];
    if (auth.identity) services.push(auth.identity);
    if (hosts('notification')) {
      const mailboxDirectory = createDirectoryReader(database.forService('identity'));
      services.push(
        createNotificationService({
          pool: database.forService('notification'),
          log: log.child({ service: 'notification' }),
          clock,
          smtpUrl: smtpUrl!,
          from: config.smtpFrom,
          retryBaseMs: config.smtpRetryBaseMs,
          smtpMaxConnections: config.smtpMaxConnections,
          bus,
          reactToEvents: choreography,
          caseUrl,
          recipients: { cases: casesOf('notification'), directory: createDirectoryReader(database.forService('identity')) },
          // Drift alerts to every access administrator (both modes), linking to the IT page.
          accessAdmins: { directory: mailboxDirectory, accessUrl: appUrl(publicUrl, AppPaths.access) },
          mailbox: { maildir, emailOf: (id) => mailboxDirectory.emailOf(id) },
          resumeHeld: soleWorker,
        }),
      );
    }
    if (hosts('hr')) {
      const hr = createHrService({
        pool: database.forService('hr'),
        log: log.child({ service: 'hr' }),
        clock,
        notificationUrl: urls.notification,
        transport,
        auth: auth.callAuth('hr'),
        cases: casesOf('hr'),
        bus,
        reactToEvents: choreography,
        followUps: { policy: config.followUps, caseUrl },
        resumeHeld: soleWorker,
      });
      services.push(hr);
      if (hr.followUpTimer) clockTimers.push(hr.followUpTimer);
    }
    if (hosts('access')) {
      const access = createAccessService({
        pool: database.forService('access'),
        log: log.child({ service: 'access' }),
        clock,
        bus,
        reactToEvents: choreography,
        cases: casesOf('access'),
        systems: accessSystems(config),
        connectorWorker: { maxAttempts: config.accessConnectors.maxAttempts, timeoutMs: config.accessConnectors.timeoutMs },
        reconcile: { intervalMs: config.accessReconcileIntervalMs },
      });
      services.push(access);
      clockTimers.push(access.revocationTimer);
    }

    // EMS in the configured coordination mode: choreography/ or orchestration/ (each assembled in its *-mode.ts).
    let mode: CoordinationMode | undefined;
    if (hosts('ems')) {
      const emsDb = createEmsDb(database.forService('ems'));
      // A case opened here is known at once to the participants asking in this process (localCases).
      const common = { db: emsDb, clock, bus, stepDeadlineSeconds: config.stepDeadlineSeconds, catalogue, casesOpened: localCases?.opened };
      mode = choreography
        ? choreographyMode(common)
        : orchestrationMode({
            ...common,
            pool: database.forService('ems'),
            systemDatabaseUrl: database.urlOf('ems'),
            workflowTables: { schema: WORKFLOW_SCHEMA, install: (adminUrl) => installWorkflowSchema(adminUrl, dbosLogger(log.child({ component: 'dbos' }))) },
            retry: config.step,
            followUps: config.followUps,
            urls: () => urls,
            callAuth: auth.callAuth('ems'),
            transport,
            replica: { id: config.replicaId, named: Boolean(config.replicaId) || !allInOne, deadAfterMs: config.replicaDeadAfterMs },
            log,
          });
      // Involuntary and mass exits: a batch opened with its events (choreography) or with its workflow (orchestration).
      const exitStore = createExitBatchStore(emsDb);
      const exits = {
        routes: exitRoutes({
          exits: exitStore,
          clock,
          stepDeadlineSeconds: config.stepDeadlineSeconds,
          starter: choreography
            ? choreographyExitStarter(emsDb, bus)
            : orchestrationExitStarter(emsDb, createExitsOrchestrator({ db: emsDb, exits: exitStore, participants: createParticipants(() => urls, auth.callAuth('ems'), { transport }), retry: config.step, clock, log: log.child({ service: 'orchestrator' }) })),
        }),
        subscriptions: choreography ? [trackExitsWhenReported({ db: emsDb, clock })] : [recordExitRevocations({ db: emsDb, clock })],
      };
      const ems = createEmsService({
        store: mode.store,
        clock,
        noticeDays: config.noticeDays,
        directory: createDirectory(createEmsDb(database.forService('ems'))),
        starter: mode.starter,
        decider: mode.decider,
        bus,
        subscriptions: [...mode.subscriptions, ...exits.subscriptions],
        routes: [exits.routes],
        catalogue,
        sweepEveryMs: Math.min(5_000, Math.max(200, (config.stepDeadlineSeconds * 1000) / 4)),
        pool: database.forService('ems'),
        followUpPolicy: config.followUps,
        extensions: { modules: config.extensions, extensions },
        log: log.child({ service: 'ems' }),
      });
      services.push(ems);
      // Its sweeper starts a case's decision workflow when a follow-up can be due (orchestration): a timer on the clock.
      clockTimers.push(ems.sweeper);
    }
    if (hosts('webhooks')) services.push(createWebhookService({ pool: database.forService('webhooks'), log: log.child({ service: 'webhooks' }), clock, bus, catalogue, secrets: auth.secrets!, ...config.webhooks }));
    if (hosts('extensions')) services.push(...extensions);

    let stage = 'starting';
    const ready = () => stage === 'ready';
    const app = await createHttpServer({
      title: 'EMS — Exit Management System',
      version: VERSION,
      description: allInOne
        ? 'Resignation intake and tracking (EMS), Notification, HR and Access APIs.'
        : `EMS services in this process: ${config.services.join(', ')}.`,
      logger: log,
      security: auth.security,
      startup: { ready, stage: () => stage },
      limits: config.http,
      plugins: [...services.map((s) => s.routes), ...(hosts('ems') ? [webApp] : [])],
      readiness: {
        startup: async () => {
          if (!ready()) throw new Error(stage);
        },
        database: async () => {
          await shared.query('SELECT 1');
        },
        // Each service names its own checks (e.g. `notification.smtp`).
        ...Object.fromEntries(services.flatMap((s) => Object.entries(s.readiness ?? {}))),
      },
      health: Object.fromEntries(services.flatMap((s) => Object.entries(s.health ?? {}))),
    });
    cleanup.push(() => app.close());
    await app.listen({ port, host: config.host });
    served.app = app;

    // The external dependencies: retried while down (the process stays up, /readyz says why).
    const retrying = async (what: string, fn: () => Promise<void>) => {
      stage = what;
      for (let attempt = 1; ; attempt++) {
        try {
          await fn();
          return;
        } catch (err) {
          if (stopping || embedded || err instanceof ConfigError) throw err; // the embedded default owns its database: no point waiting
          const delay = backoffDelay(attempt + 1, { baseMs: 250, maxMs: 10_000 });
          stage = `${what}: ${err instanceof Error ? err.message : String(err)} (attempt ${attempt}; retrying in ${delay} ms)`;
          log.warn({ err, attempt, delay }, `start-up: ${what} failed; retrying`);
          await new Promise((r) => setTimeout(r, delay));
          if (stopping) throw new Error('stopped during start-up');
        }
      }
    };

    /** The role a service module's code logs in as: its name, or for an extension its module's. */
    const roleOf = (s: ServiceModule<DemoOrg>) => {
      const i = extensions.findIndex((e) => e === s);
      return i < 0 ? s.name : extensionService(config.extensions[i]!);
    };
    if (allInOne && !embedded) await retrying('waiting for the database', () => ensureDatabase(databaseUrl));
    // A process of a split deployment reaches the database as its role: made (with the database) by `ems migrate`.
    if (!allInOne) await retrying('waiting for the database', () => reachAsRole(shared));
    if (allInOne) {
      // One process owns the database: it migrates (and seeds the demo organisation) itself.
      await retrying('migrating', async () => {
        for (const s of services) await migrate(setup, s.schema, s.migrations);
        // The bus's and the workflow engine's tables too: their roles may use them, not make them.
        await installEventBus(setup, { schema: BUS_SCHEMA });
        await mode?.install?.(databaseUrl);
        // Then each service's role (before anything connects as one): its own schema, the bus.
        await ensureRolesFor(databaseUrl, services.map((s) => ({ name: roleOf(s), schema: s.schema })), rolePasswordOf).catch((err: unknown) => {
          if ((err as { code?: string }).code !== '42501') throw err;
          throw new ConfigError([
            `EMS_DATABASE_URL: running every service in one process, EMS gives each service a database role of its own, which its user may not create (${err instanceof Error ? err.message : String(err)}). ` +
              'Connect as the database owner with CREATEROLE, or run `ems migrate` as one and each service as its own process (ems start --service …).',
          ]);
        });
      });
      if (config.seed) {
        await retrying('seeding', async () => {
          if (!(await isSeeded(setup))) {
            await seedAll(setup, services, options.org ?? demoOrg(config.seedEmployees));
            log.info('demo organisation seeded');
          }
        });
      }
    } else {
      // Replicas never race to migrate: `ems migrate` runs once per release; until then, not ready.
      // Every process admits requests from the identity schema (people, tokens, sessions): it must be current too.
      // Checked as this process's roles: it never logs in as the admin.
      const schemas = hosts('identity') ? services : [identitySchemaModule(shared), ...services];
      await retrying('waiting for migrations (run: ems migrate)', () => checkMigrated((s) => database.forService(roleOf(s)), schemas));
    }
    // From here on the process logs in only as its roles.
    await endSetup();

    // A retry after a failed start must not subscribe again what the bus holds already (it refuses a second time).
    const subscribed = new Set<string>();
    await retrying('starting the event bus', async () => {
      for (const s of services) {
        for (const sub of s.subscriptions ?? []) {
          if (subscribed.has(sub.name)) continue;
          await bus.subscribe(sub);
          subscribed.add(sub.name);
        }
      }
      if (mode) {
        // A database that ran in the other mode before keeps its routing: its queues must not fill up with
        // events nobody will consume (orchestration retires the reactions and the tracker, choreography the orchestrator's).
        const retired = choreography ? [...ORCHESTRATION_SUBSCRIBERS, RECORD_EXIT_REVOCATIONS_SUBSCRIBER] : [...PARTICIPANT_REACTIONS, ...CHOREOGRAPHY_SUBSCRIBERS, TRACK_EXITS_SUBSCRIBER];
        for (const name of retired) await bus.unsubscribe(name);
      }
      await bus.start();
    });
    // Reversed, shutdown runs: HTTP, service workers (webhook deliveries abort), bus consumers, DBOS, pool, SMTP, PostgreSQL.
    if (mode?.start) {
      // Orchestration's workflow engine; reversed at shutdown, what stops it runs in the order given.
      const stops = await mode.start(retrying);
      cleanup.splice(cleanup.length - 1, 0, ...stops.reverse());
    }
    cleanup.splice(cleanup.length - 1, 0, () => bus.stop());
    const started: ServiceModule<DemoOrg>[] = [];
    cleanup.splice(cleanup.length - 1, 0, async () => {
      for (const s of started.reverse()) await s.stop?.();
    });
    for (const s of services) {
      await s.start?.();
      started.push(s);
    }
    stage = 'ready';
    const timers = {
      async drained() {
        await Promise.all(clockTimers.map((t) => t.drained()));
      },
    };
    return { url: selfUrl, config, pool, database, app, log, smtp, embedded, bus, auth, timers, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The systems file's systems; a mistake in it stops start-up, naming each. Without EMS_ACCESS_SYSTEMS_FILE,
 * undefined: this process connects no system and leaves Access's systems as the last file made them (one
 * replica started without the file must not disconnect every system and fail the changes others are carrying).
 */
function accessSystems(config: Config): SystemConfig[] | undefined {
  const file = config.accessConnectors.systemsFile;
  if (!file) return undefined;
  try {
    return loadSystemsFile(file);
  } catch (err) {
    if (err instanceof SystemsFileError) throw new ConfigError(err.issues.map((i) => `EMS_ACCESS_SYSTEMS_FILE (${file}): ${i}`));
    throw err;
  }
}

/** Where this process reaches each service: itself when it hosts it, else the configured URL (required). */
function serviceUrls(config: Config, selfUrl: string): { notification: string; hr: string; access: string; cases: string } {
  const hosts = (s: ServiceName) => config.services.includes(s);
  const needs: Array<['notification' | 'hr' | 'access' | 'cases', boolean]> = [
    // HR sends invites and follow-ups through Notification; the orchestrator calls all three.
    ['notification', hosts('hr') || (hosts('ems') && config.mode === 'orchestration')],
    ['hr', hosts('ems') && config.mode === 'orchestration'],
    ['access', hosts('ems') && config.mode === 'orchestration'],
    // Notification, HR and Access act only for a case EMS confirms.
    ['cases', !hosts('ems') && (hosts('notification') || hosts('hr') || hosts('access'))],
  ];
  const missing = needs
    .filter(([name, needed]) => needed && !(name !== 'cases' && hosts(name)) && !config.serviceUrls[name])
    .map(([name]) => `EMS_${name.toUpperCase()}_URL: required, as this process does not run the ${name === 'cases' ? 'ems' : name} service`);
  if (missing.length) throw new ConfigError(missing);
  return {
    notification: config.serviceUrls.notification ?? selfUrl,
    hr: config.serviceUrls.hr ?? selfUrl,
    access: config.serviceUrls.access ?? selfUrl,
    cases: config.serviceUrls.cases ?? selfUrl,
  };
}

/** One round trip as this process's role; a role or database that is not there yet asks for `ems migrate`. */
async function reachAsRole(pool: Pool): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '28P01' || code === '28000' || code === '3D000') {
      throw new Error(`${err instanceof Error ? err.message : String(err)} — run \`ems migrate\` with the installation's secrets key: it makes the database, the services' roles and their passwords`);
    }
    throw err;
  }
}

/** Every hosted service's schema holds all of its migrations (else: not ready, try again). */
async function checkMigrated(poolOf: (service: ServiceModule<DemoOrg>) => Pool, services: readonly ServiceModule<DemoOrg>[]): Promise<void> {
  for (const s of services) {
    const latest = Math.max(0, ...s.migrations.map((m) => m.version));
    if (!latest) continue;
    const r = await poolOf(s)
      .query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoteIdent(s.schema)}.schema_migrations`)
      .catch((err: unknown) => {
        throw new Error(`schema ${s.schema} is not migrated (${err instanceof Error ? err.message : String(err)})`);
      });
    const have = r.rows[0]?.v ?? 0;
    if (have < latest) throw new Error(`schema ${s.schema} is at migration ${have}, this release needs ${latest}`);
    if (have > latest) throw new Error(`schema ${s.schema} is at migration ${have}, newer than this release (${latest}): upgrade this process`);
  }
}
