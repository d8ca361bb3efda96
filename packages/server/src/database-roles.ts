import { ConfigError, createPool, databaseName, ensureServiceRoles, serviceRoleName, type Logger, type Pool, type ServiceModule, type ServiceRole } from '@ems/platform';
import type { Config } from './config.ts';
import { loadSecrets } from './auth-setup.ts';
import type { Secrets } from '@ems/identity';
import type { DLogger } from '@dbos-inc/dbos-sdk';
import { ensureSystemDatabase } from '@dbos-inc/dbos-sdk/internal/system_database';
import { GlobalLogger } from '@dbos-inc/dbos-sdk/internal/telemetry/logs';

/** DBOS's system tables (the orchestrator's workflows), in EMS's database. */
export const WORKFLOW_SCHEMA = 'dbos';

/** The bus's tables (pg-boss queues, outbox, dead letters): every service publishes its events there. */
export const BUS_SCHEMA = 'bus';

/**
 * The role of the bus's own work in a process that runs several services (the all-in-one): pg-boss's
 * workers and maintenance, the outbox relay, dead letters, readiness. It reaches the bus schema only.
 * (A name no service module takes: services are named in config.ts, extensions by their modules.)
 */
export const BUS_ROLE = 'bus';

/**
 * What every process reads to admit a request (the trust boundary, identity's `security`): the directory
 * (people and their roles) and the hashes of API tokens and sessions, and an API token's last use. A
 * service running as its own process does this as its own role, so each service role may read these —
 * never identity's other tables (signing keys, the provider's grants).
 */
const TRUST_BOUNDARY_READS = [
  { schema: 'identity', table: 'people' },
  { schema: 'identity', table: 'role_assignments' },
  { schema: 'identity', table: 'api_tokens', update: ['last_used_at'] },
  { schema: 'identity', table: 'sessions' },
  // A process checks that the schemas it reads are migrated before it serves.
  { schema: 'identity', table: 'schema_migrations' },
] as const;

/** The role of an extension loaded by module name (`@ems/assets` → `assets`). */
export function extensionService(module: string): string {
  return (module.split('/').pop() ?? module).toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The services this process's code runs as (each a role): its services, the extensions it hosts named by module. */
export function roleServicesOf(config: Pick<Config, 'services' | 'extensions'>): string[] {
  return config.services.flatMap((s) => (s === 'extensions' ? config.extensions.map(extensionService) : [s]));
}

/**
 * Which roles this process logs in as, from EMS_DATABASE_URL:
 * - the all-in-one process owns its database: the URL is the admin's (migrations, roles, seeding at
 *   start); at run time every service logs in as its own role and the bus as the bus role, each
 *   password derived from the installation's secrets key;
 * - a process running one service (`ems start --service hr`) given its role's URL (`ems credentials`
 *   prints it) logs in with it for everything;
 * - given another user's URL (the admin's), a process that holds the secrets key logs in as its
 *   role(s) all the same, with the password derived from the key — never as the URL's user; one that
 *   does not hold the key stops at once, saying which URL it needs.
 */
export function databaseAccessFor(config: Config, url: string, allInOne: boolean, log: Logger): { access: DatabaseAccess; password?: (service: string) => string } {
  const database = databaseName(url);
  const keyed = allInOne || config.auth.secretsKey !== undefined || config.auth.secretsKeyFile !== undefined;
  const secrets = keyed ? loadSecrets(config, log) : undefined;
  const password = secrets ? (service: string) => rolePassword(secrets, database, service) : undefined;
  if (allInOne) return { access: createDatabaseAccess(url, { password: password! }), password };
  const services = roleServicesOf(config);
  const user = decodeURIComponent(new URL(url).username);
  const only = services.length === 1 ? services[0]! : undefined;
  // One service: one pool for everything it does (its code, the bus, the workflow engine's own pool aside).
  const single = (roleUrlText: string) => createDatabaseAccess(roleUrlText, { single: createPool(roleUrlText, { max: 20, name: `ems-${only}` }) });
  if (only && user === serviceRoleName(database, only)) return { access: single(url) };
  if (password) {
    log.info({ roles: services.map((s) => serviceRoleName(database, s)) }, "connecting as this process's database roles (passwords derived from the secrets key), not as EMS_DATABASE_URL's user");
    return { access: only ? single(roleUrl(url, only, password(only))) : createDatabaseAccess(url, { password }) };
  }
  const wanted = only ? `its service's role, ${serviceRoleName(database, only)}` : `one role per service (${services.map((s) => serviceRoleName(database, s)).join(', ')}), which only the secrets key derives`;
  throw new ConfigError([
    `EMS_DATABASE_URL: this process (${config.services.join(', ')}) logs in as ${wanted} — not as ${user || "the URL's user"}, whose rights would reach every service's tables. ` +
      (only
        ? `Give it the URL \`ems credentials\` prints for it (DATABASE_URL_${only.toUpperCase()}; the role is made by \`ems migrate\`), or the installation's secrets key (EMS_SECRETS_KEY) to derive it.`
        : "Give it the installation's secrets key (EMS_SECRETS_KEY), or run each service as its own process."),
  ]);
}

/**
 * One database role per service module: its own schema — EMS also the workflow engine's — and the bus.
 * With a secrets key, each role's password is derived from it (`database-role:<role>`), so every command
 * that holds the key agrees on it without storing it; without one, the role has no password yet.
 */
export function serviceRoles(modules: ReadonlyArray<Pick<ServiceModule<unknown>, 'name' | 'schema'>>, password?: (service: string) => string): ServiceRole[] {
  const roles: ServiceRole[] = modules.map((m) => ({
    service: m.name,
    schemas: m.name === 'ems' ? [m.schema, WORKFLOW_SCHEMA] : [m.schema],
    ...(m.name === 'identity' ? {} : { reads: TRUST_BOUNDARY_READS }),
    ...(password ? { password: password(m.name) } : {}),
  }));
  roles.push({ service: BUS_ROLE, schemas: [BUS_SCHEMA], ...(password ? { password: password(BUS_ROLE) } : {}) });
  return roles;
}

/** Creates or updates the roles of every service module in the database `adminUrl` names (run as its admin, after migrating). */
export function ensureRolesFor(adminUrl: string, modules: ReadonlyArray<Pick<ServiceModule<unknown>, 'name' | 'schema'>>, password?: (service: string) => string) {
  return ensureServiceRoles(adminUrl, { database: databaseName(adminUrl), roles: serviceRoles(modules, password), shared: [BUS_SCHEMA] });
}

/** A service role's password, derived from the installation's secrets key: the same for every command that holds the key. */
export function rolePassword(secrets: Pick<Secrets, 'derive'>, database: string, service: string): string {
  return secrets.derive(`database-role:${database}:${service}`);
}

/** `url` (the server and database) logging in as `service`'s role with `password`. */
export function roleUrl(url: string, service: string, password: string): string {
  const asRole = new URL(url);
  asRole.username = serviceRoleName(databaseName(url), service);
  asRole.password = password;
  return asRole.toString();
}

/**
 * The database pools of one process, made in the composition root; none logs in as the admin. Where
 * the process runs several services (the all-in-one), each service's own code gets a pool of its own
 * that logs in as the service's role, so PostgreSQL refuses it any other service's tables, and the
 * bus's own work (and readiness) a pool as the bus role; the workflow engine runs as EMS's role.
 * A process running one service (`ems start --service`) logs in as that service's role for everything.
 * The admin's pool is only for start-up: migrations, roles, seeding.
 */
export interface DatabaseAccess {
  /** The pool `service`'s own code uses. */
  forService(service: string): Pool;
  /** The pool of the bus's own work and readiness. */
  shared(): Pool;
  /** The URL `service`'s role logs in with (the workflow engine makes its own pool from EMS's). */
  urlOf(service: string): string;
  end(): Promise<void>;
}

/**
 * Connections per service's pool (lazy; idle ones close after 60 s). Sized by the burst benchmark: the
 * three reactions' services each serve one call per case in flight (32 in the benchmark), the interview
 * the longest (≈ 16 round trips); at 4 connections each, HR and Access queued (orchestration 0.62 → 0.45
 * of its participants' own rate). Sign-in checks and webhooks are light.
 */
/**
 * The bus role's pool (workers, sweep, relay, dead letters) and the extensions' (2 each: they subscribe
 * and answer a few reads) share the 12 the admin's pool had when it served both: the process holds no more
 * connections than before the bus had a role of its own (the admin's 2 are closed before it serves).
 */
const POOL_SIZES: Record<string, number> = { ems: 16, hr: 8, access: 8, notification: 8, identity: 4, webhooks: 4, [BUS_ROLE]: 10 };
const EXTENSION_POOL_SIZE = 2;

/**
 * `roles.password`: each role's password (several services in this process: one role each, and the
 * bus role). `single`: the one pool of a process running one service, its URL already its role's.
 */
export function createDatabaseAccess(url: string, access: { password: (service: string) => string } | { single: Pool }): DatabaseAccess {
  const pools = new Map<string, Pool>();
  const urlOf = (service: string) => ('single' in access ? url : roleUrl(url, service, access.password(service)));
  const poolOf = (service: string) => {
    if ('single' in access) return access.single;
    let pool = pools.get(service);
    if (!pool) {
      // Lazy, like every pool here: nothing connects before the role exists.
      pool = createPool(urlOf(service), { max: POOL_SIZES[service] ?? EXTENSION_POOL_SIZE, name: service === BUS_ROLE ? 'ems' : `ems-${service}` });
      pools.set(service, pool);
    }
    return pool;
  };
  return {
    forService: poolOf,
    shared: () => poolOf(BUS_ROLE),
    urlOf,
    async end() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      if ('single' in access) await access.single.end();
    },
  };
}

/**
 * Installs DBOS's system tables (schema `dbos`) as the admin, as DBOS would at launch — which a role
 * that may not create tables cannot do: EMS's role then launches DBOS with `runMigrations: false`.
 */
export async function installWorkflowSchema(adminUrl: string, log: DLogger): Promise<void> {
  await ensureSystemDatabase(adminUrl, new GlobalLogger(undefined, { logger: log }), undefined, WORKFLOW_SCHEMA);
}
