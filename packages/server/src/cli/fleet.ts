/**
 * `ems start --fleet`: every service as its own OS process on localhost — the shape of a real deployment,
 * on one machine. The launcher owns what the services share (PostgreSQL — embedded unless
 * EMS_DATABASE_URL —, a capture SMTP server unless EMS_SMTP_URL), migrates once, seeds, then starts
 * `ems start --service <name>` for each service (× --replicas), each on its own port, and a
 * gateway on EMS_PORT that routes each API path to a replica of the service that serves it (round
 * robin; the routing table is read from each service's /openapi.json). Services reach each other
 * through the gateway. One log stream: every line is prefixed with its process. A process that dies
 * is restarted (with backoff), as a supervisor would. Each member has an IPC channel to the launcher:
 * it knows it is supervised (one "ready" line instead of a banner) and stops when the launcher is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backoffDelay, createPool, databaseName, ensureDatabase, migrate, startEmbeddedPostgres, type EmbeddedPostgres, type Logger } from '@ems/platform';
import { demoOrg } from '@ems/demo-org';
import { startCaptureSmtpServer } from '@ems/notification';
import type { Config, ServiceName } from '../config.ts';
import { buildAllServiceModules } from '../seed-modules.ts';
import { learnRoutes, startGateway, waitForJson } from './gateway.ts';
import { isSeeded, seedAll } from '../seed.ts';
import { identitySettings, loadSecrets } from '../auth-setup.ts';
import { serviceClientSecret } from '@ems/identity';
import { installEventBus } from '@ems/eventbus';
import { BUS_SCHEMA, ensureRolesFor, extensionService, installWorkflowSchema, rolePassword, roleUrl } from '../database-roles.ts';
import { dbosLogger } from '@ems/ems';

/** The parent's environment without the secrets key: children get only what they need. */
function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { EMS_SECRETS_KEY: _key, EMS_SECRETS_KEY_FILE: _file, ...rest } = env;
  return rest;
}

function secretsKeyOf(config: Config): string {
  return config.auth.secretsKey ?? readFileSync(config.auth.secretsKeyFile ?? path.join(config.dataDir, 'secrets.key'), 'utf8').trim();
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/ems.ts');

interface Replica {
  service: ServiceName;
  index: number;
  port: number;
  child: ChildProcess | undefined;
  restarts: number;
}

export interface Fleet {
  url: string;
  replicas: ReadonlyArray<Readonly<Replica>>;
  stop(): Promise<void>;
}

/** The fleet cannot start as configured (e.g. a port it needs is taken); the message says what to change. */
export class FleetError extends Error {}

/** Refuses to start on ports another program holds: the gateway's (EMS_PORT) and its members' (the ones after it). */
async function checkPortsFree(host: string, ports: ReadonlyArray<{ port: number; owner: string }>): Promise<void> {
  for (const { port, owner } of ports) {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const probe = createServer();
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
      probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
    });
    if (!error) continue;
    const first = ports[0]!.port;
    const last = ports[ports.length - 1]!.port;
    const why = error.code === 'EADDRINUSE' ? 'is in use by another program' : `cannot be used (${error.code ?? error.message})`;
    throw new FleetError(
      `port ${port} on ${host} (for ${owner}) ${why}. The fleet takes EMS_PORT (${first}) for its gateway and the ${ports.length - 1} ports after it (to ${last}) for its processes: free them, or set EMS_PORT to the first of ${ports.length} free ports.`,
    );
  }
}

export async function startFleet(config: Config, log: Logger, options: { replicas: number; print: (line: string) => void }): Promise<Fleet> {
  const cleanup: Array<() => Promise<void>> = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => log.error({ err }, 'fleet shutdown step failed'));
  };
  const services: ServiceName[] = ['identity', 'ems', 'notification', 'hr', 'access', 'webhooks', ...(config.extensions.length ? (['extensions'] as const) : [])];
  const gatewayPort = config.port;
  const replicas: Replica[] = [];
  let nextPort = gatewayPort + 1;
  for (const service of services) for (let i = 1; i <= options.replicas; i++) replicas.push({ service, index: i, port: nextPort++, child: undefined, restarts: 0 });
  // Before anything is started: a busy port would otherwise show up as a member failing (and restarted for ever).
  await checkPortsFree(config.host, [{ port: gatewayPort, owner: 'the gateway' }, ...replicas.map((r) => ({ port: r.port, owner: `${r.service}-${r.index}` }))]);
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'ems' });
      cleanup.push(() => pg.stop());
      databaseUrl = pg.url;
    } else await ensureDatabase(databaseUrl);
    let smtpUrl = config.smtpUrl;
    if (!smtpUrl) {
      const smtp = await startCaptureSmtpServer({ port: 0 });
      cleanup.push(() => smtp.stop());
      smtpUrl = smtp.url;
    }

    // One key for the installation (made in the data directory once): webhooks need it whatever the provider,
    // and every member's database role has its password derived from it.
    const secrets = loadSecrets(config, log);
    const database = databaseName(databaseUrl);
    const roleOf = (service: ServiceName) => (service === 'extensions' ? config.extensions.map(extensionService) : [service]);

    // Migrations once, here — never by replicas racing; the bus's and DBOS's tables; each service's role; then
    // the demo organisation. All as the admin (the launcher's URL); no member ever logs in as it.
    const pool = createPool(databaseUrl, { max: 4, name: 'ems-fleet' });
    try {
      const modules = await buildAllServiceModules(pool, log, config);
      for (const m of modules) await migrate(pool, m.schema, m.migrations);
      await installEventBus(pool, { schema: BUS_SCHEMA });
      await installWorkflowSchema(databaseUrl, dbosLogger(log.child({ component: 'dbos' })));
      // Extensions come last (seed-modules.ts), each named by its module.
      const firstExtension = modules.length - config.extensions.length;
      const roleModules = modules.map((m, i) => (i < firstExtension ? m : { name: extensionService(config.extensions[i - firstExtension]!), schema: m.schema }));
      await ensureRolesFor(databaseUrl, roleModules, (service) => rolePassword(secrets, database, service));
      if (config.seed && !(await isSeeded(pool))) await seedAll(pool, modules, demoOrg(config.seedEmployees));
    } finally {
      await pool.end();
    }

    // Credentials: the identity service holds the secrets key (it runs the built-in provider); every other
    // process gets only its own service's client secret — never the key. Each its own role's database URL.
    const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
    const settings = identitySettings(config, `http://127.0.0.1:${config.port}`, publicUrl);
    const databaseUrlOf = (service: ServiceName): NodeJS.ProcessEnv => {
      const roles = roleOf(service);
      // Several extensions in one process: several roles, which it derives from the key (database-roles.ts).
      if (roles.length !== 1) return { EMS_DATABASE_URL: databaseUrl, EMS_SECRETS_KEY: secretsKeyOf(config) };
      return { EMS_DATABASE_URL: roleUrl(databaseUrl, roles[0]!, rolePassword(secrets, database, roles[0]!)) };
    };
    const credentials = (service: ServiceName): NodeJS.ProcessEnv => {
      if (service === 'identity' || service === 'webhooks') {
        return { EMS_SECRETS_KEY: secretsKeyOf(config) };
      }
      if (service !== 'ems' && service !== 'notification' && service !== 'hr' && service !== 'access') return {};
      const secret = serviceClientSecret(settings, secrets, service);
      return secret ? { [`EMS_SERVICE_CLIENT_SECRET_${service.toUpperCase()}`]: secret } : {};
    };
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

    const env = (r: Replica): NodeJS.ProcessEnv => ({
      ...withoutSecrets(process.env),
      ...credentials(r.service),
      ...databaseUrlOf(r.service),
      EMS_SERVICES: r.service,
      EMS_PORT: String(r.port),
      EMS_SMTP_URL: smtpUrl,
      EMS_REPLICA_ID: `${r.service}-${r.index}`,
      EMS_PUBLIC_URL: publicUrl,
      // Everyone reaches everyone through the gateway: any replica of the service will do.
      EMS_IDENTITY_URL: gatewayUrl,
      EMS_CASES_URL: gatewayUrl,
      EMS_NOTIFICATION_URL: gatewayUrl,
      EMS_HR_URL: gatewayUrl,
      EMS_ACCESS_URL: gatewayUrl,
    });
    const launch = (r: Replica) => {
      // The IPC channel tells the member it is supervised, and closes when the launcher dies however it dies.
      const child = spawn(process.execPath, [BIN, 'start'], { env: env(r), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      r.child = child;
      const prefix = `${`${r.service}-${r.index}`.padEnd(14)}|`;
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue; // piped above: always there
        let buffered = '';
        stream.on('data', (d: Buffer) => {
          buffered += d.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) if (line.trim()) options.print(`${prefix} ${line}`);
        });
      }
      child.once('exit', (code, signal) => {
        if (stopping) return;
        r.restarts++;
        const delay = backoffDelay(r.restarts + 1, { baseMs: 500, maxMs: 10_000 });
        options.print(`fleet         | ${r.service}-${r.index} exited (${signal ?? code}); restarting in ${delay} ms`);
        setTimeout(() => {
          if (!stopping) launch(r);
        }, delay).unref();
      });
    };
    for (const r of replicas) launch(r);
    cleanup.push(async () => {
      await Promise.all(
        replicas.map(async (r) => {
          const c = r.child;
          if (!c || c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((resolve) => c.once('exit', resolve));
          c.kill('SIGTERM');
          const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    });

    // Wait until every replica is ready, then learn who serves which paths.
    for (const r of replicas) await waitForJson(`http://127.0.0.1:${r.port}/readyz`, 120_000);
    const routes = await learnRoutes(services.map((service) => ({ service, url: `http://127.0.0.1:${replicas.find((r) => r.service === service)!.port}` })));
    const gateway = await startGateway({
      port: gatewayPort,
      host: config.host,
      routes,
      upstreams: (service) => replicas.filter((r) => r.service === service).map((r) => `http://127.0.0.1:${r.port}`),
      timeouts: config.http.timeouts,
    });
    cleanup.push(() => gateway.stop());
    return { url: gatewayUrl, replicas, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

