import { createPool, databaseName, ensureServiceRoles, serviceRoleName, type Pool, type ServiceModule, type ServiceRole } from '@ems/platform';
import type { Secrets } from '@ems/identity';

/** DBOS's system tables (the orchestrator's workflows), in EMS's database. */
export const WORKFLOW_SCHEMA = 'dbos';

/** The bus's tables (pg-boss queues, outbox, dead letters): every service publishes its events there. */
export const BUS_SCHEMA = 'bus';

/**
 * One database role per service module: its own schema — EMS also the workflow engine's — and the bus.
 * With a secrets key, each role's password is derived from it (`database-role:<role>`), so every command
 * that holds the key agrees on it without storing it; without one, the role has no password yet.
 */
export function serviceRoles(modules: ReadonlyArray<Pick<ServiceModule<unknown>, 'name' | 'schema'>>, password?: (service: string) => string): ServiceRole[] {
  return modules.map((m) => ({
    service: m.name,
    schemas: m.name === 'ems' ? [m.schema, WORKFLOW_SCHEMA] : [m.schema],
    ...(password ? { password: password(m.name) } : {}),
  }));
}

/** Creates or updates the roles of every service module in the database `adminUrl` names (run as its admin, after migrating). */
export function ensureRolesFor(adminUrl: string, modules: ReadonlyArray<Pick<ServiceModule<unknown>, 'name' | 'schema'>>, password?: (service: string) => string) {
  return ensureServiceRoles(adminUrl, { database: databaseName(adminUrl), roles: serviceRoles(modules, password), shared: [BUS_SCHEMA] });
}

/** A service role's password, derived from the installation's secrets key: the same for every command that holds the key. */
export function rolePassword(secrets: Pick<Secrets, 'derive'>, database: string, service: string): string {
  return secrets.derive(`database-role:${database}:${service}`);
}

/**
 * The database pools of one process, made in the composition root. Where the process owns its database
 * (the all-in-one default) each service's own code gets a pool of its own that logs in as the service's
 * role, so PostgreSQL refuses it any other service's tables; the process's pool — the admin's — keeps
 * what is shared: migrations, seeding, the bus's own work, the workflow engine, readiness. Elsewhere
 * every service uses the process's pool, as before.
 */
export interface DatabaseAccess {
  /** The pool `service`'s own code uses. */
  forService(service: string): Pool;
  end(): Promise<void>;
}

/**
 * Connections per service's pool (lazy; idle ones close after 10 s). Sized by the burst benchmark: the
 * three reactions' services each serve one call per case in flight (32 in the benchmark), the interview
 * the longest (≈ 16 round trips); at 4 connections each, HR and Access queued (orchestration 0.62 → 0.45
 * of its participants' own rate). Sign-in checks and webhooks are light.
 */
const POOL_SIZES: Record<string, number> = { ems: 16, hr: 8, access: 8, notification: 8 };

export function createDatabaseAccess(url: string, processPool: Pool, roles?: { password: (service: string) => string }): DatabaseAccess {
  const pools = new Map<string, Pool>();
  return {
    forService(service) {
      if (!roles) return processPool;
      let pool = pools.get(service);
      if (!pool) {
        const asRole = new URL(url);
        asRole.username = serviceRoleName(databaseName(url), service);
        asRole.password = roles.password(service);
        // Lazy, like every pool here: nothing connects before the role exists.
        pool = createPool(asRole.toString(), { max: POOL_SIZES[service] ?? 4, name: `ems-${service}` });
        pools.set(service, pool);
      }
      return pool;
    },
    async end() {
      await Promise.all([...pools.values()].map((p) => p.end()));
    },
  };
}
