import type Provider from 'oidc-provider';
import { sql } from 'kysely';
import { createKysely, createPoller, systemClock, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { PolicyTable } from '@ems/contracts/policy';
import type { EventBus } from '@ems/eventbus';
import { IDENTITY_SCHEMA, type IdentityDB } from './db/identity.db.ts';
import { migrations } from './db/migrations.ts';
import { findPerson, peopleWithRole, relationsTogether, seedDirectory, type Contact, type EmployeeRelations } from './directory/directory.ts';
import type { Security } from './authenticate/security.ts';
import type { IdentityContext } from './identity.context.ts';
import type { Secrets } from './secrets.ts';
import { issuerOf, oidcTrust, usesDevProvider, webClient, type IdentitySettings } from './settings.ts';
import { createDevProvider } from './dev-provider/provider.ts';
import { registerDevProviderRoutes } from './dev-provider/dev-provider.http.ts';
import { loadSigningKeys, rotateSigningKeys } from './dev-provider/keys.ts';
import { pruneExpired } from './dev-provider/adapter.ts';
import { registerSessionRoutes } from './sessions/sessions.http.ts';
import { registerApiTokenRoutes } from './api-tokens/api-tokens.http.ts';
import { registerProvisioningTokenRoutes } from './provisioning-tokens/provisioning-tokens.http.ts';
import { registerScimRoutes } from './scim/scim.http.ts';
import { registerImportPeopleRoute } from './import-people/import-people.http.ts';

export { IDENTITY_SCHEMA };

export interface IdentityServiceDeps {
  pool: Pool;
  log: Logger;
  /** Real time only (never a drill's shifted clock): lifetimes of sessions and tokens. */
  clock?: Clock;
  secrets: Secrets;
  security: Security;
  settings: IdentitySettings;
  policy: PolicyTable;
  /** Where the directory publishes personChanged (CSV import, SCIM), in both modes; absent → it publishes nothing. */
  bus?: EventBus | undefined;
}

/** The directory's view of an employee's people, for services that must derive whom to write to (Notification). */
export function createDirectoryReader(pool: Pool): {
  relations(employeeId: string): Promise<EmployeeRelations | undefined>;
  emailOf(personId: string): Promise<string | undefined>;
  peopleWithRole(role: 'hr_lead' | 'access_admin' | 'operator'): Promise<Contact[]>;
} {
  const db = createKysely<IdentityDB>(pool, IDENTITY_SCHEMA);
  return {
    relations: relationsTogether(db),
    // Whom Notification tells about drift (the access administrators).
    peopleWithRole: (role) => peopleWithRole(db, role),
    // Anyone in the directory (an HR partner or lead too), by id only.
    emailOf: async (personId) => {
      const p = await findPerson(db, personId);
      return p?.id === personId ? p.email : undefined;
    },
  };
}

/** The identity schema as `ems migrate` and `ems seed` need it: migrations and the directory's seed, nothing started. */
export function identitySchemaModule(pool: Pool): ServiceModule<DemoOrg> {
  const db = createKysely<IdentityDB>(pool, IDENTITY_SCHEMA);
  return { name: 'identity', schema: IDENTITY_SCHEMA, migrations, routes: async () => undefined, seed: (org) => seedDirectory(db, org) };
}

/**
 * The identity service: the directory as authorization sees it, browser sign-in and sessions, API tokens,
 * "who am I" — and, unless an external provider is configured, the built-in development OpenID provider.
 */
export function createIdentityService(deps: IdentityServiceDeps): ServiceModule<DemoOrg> {
  const db = createKysely<IdentityDB>(deps.pool, IDENTITY_SCHEMA);
  const log = deps.log.child({ service: 'identity' });
  const s = deps.settings;
  const dev = usesDevProvider(s);
  const trust = oidcTrust(s, []);
  const web = webClient(s, deps.secrets);
  let provider: Provider | undefined;
  let keysVersion = '';

  const buildProvider = async () => {
    const keys = await loadSigningKeys(db, deps.secrets);
    if (provider && keys.version === keysVersion) return;
    provider = createDevProvider(
      {
        db,
        secrets: deps.secrets,
        log,
        issuer: issuerOf(s),
        publicUrl: s.publicUrl,
        policy: deps.policy,
        apiAudience: s.apiAudience,
        serviceAudience: (svc) => trust.serviceAudience(svc),
        serviceClientId: (svc) => trust.serviceClientId(svc),
        webClientId: s.webClientId,
        cliClientId: s.cliClientId,
        accessTokenTtlS: s.accessTokenTtlS,
      },
      keys,
    );
    keysVersion = keys.version;
  };

  const ctx: IdentityContext = {
    db,
    log,
    clock: deps.clock ?? systemClock,
    bus: deps.bus,
    secrets: deps.secrets,
    security: deps.security,
    web: {
      clientId: s.webClientId,
      publicUrl: s.publicUrl,
      secureCookies: s.publicUrl.startsWith('https://'),
      sessionIdleMs: s.sessionIdleMs,
      sessionAbsoluteMs: s.sessionAbsoluteMs,
      configuration: web.configuration,
      toBrowser: web.toBrowser,
    },
    authConfig: { issuer: issuerOf(s), cliClientId: s.cliClientId, apiAudience: s.apiAudience, devProvider: dev },
    rotateKeys: dev
      ? async () => {
          const rotated = await rotateSigningKeys(db, deps.secrets);
          await buildProvider();
          log.info({ kid: rotated.kid, retired: rotated.retired }, 'signing key rotated');
          return rotated;
        }
      : undefined,
  };

  // Expired provider state is pruned; another replica's key rotation is picked up within a minute.
  const housekeeping = createPoller({
    name: 'identity housekeeping',
    log,
    intervalMs: 60_000,
    batch: 1000,
    async work(limit) {
      if (!dev) return 0;
      await buildProvider();
      const pruned = await pruneExpired(db, limit);
      await sql`DELETE FROM identity.sessions WHERE absolute_expires_at < now() - interval '1 day'`.execute(db);
      return pruned;
    },
  });

  return {
    name: 'identity',
    schema: IDENTITY_SCHEMA,
    migrations,
    routes: async (app) => {
      if (dev) registerDevProviderRoutes(app, { db, provider: () => provider });
      registerSessionRoutes(app, ctx);
      registerApiTokenRoutes(app, ctx);
      registerProvisioningTokenRoutes(app, ctx);
      await registerScimRoutes(app, ctx);
      await registerImportPeopleRoute(app, ctx);
    },
    readiness: {
      identity: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    seed: (org) => seedDirectory(db, org),
    async start() {
      if (dev) await buildProvider();
      housekeeping.start();
    },
    async stop() {
      await housekeeping.stop();
    },
  };
}
