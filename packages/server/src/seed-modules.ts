import type { DemoOrg } from '@ems/demo-org';
import { systemClock, type CaseLookup, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import { events } from '@ems/contracts';
import { createPostgresEventBus } from '@ems/eventbus';
import { createWebhookService } from '@ems/webhooks';
import type { Config } from './config.ts';
import { loadExtensions } from './extensions.ts';
import { createHrService } from '@ems/hr';
import { createAccessService } from '@ems/access';
import { createNotificationService } from '@ems/notification';
import { identitySchemaModule } from '@ems/identity';
import { createDirectory, createEmsDb, EMS_SCHEMA, migrations } from '@ems/ems';

/** Never asked: these modules are migrated and seeded, not served. */
const noCases: CaseLookup = {
  get: () => Promise.reject(new Error('a module built for migrating and seeding checks no case')),
};

/** The service modules as far as migrating and seeding needs them (nothing is started). */
export function buildServiceModulesForSeeding(pool: Pool, log: Logger): ServiceModule<DemoOrg>[] {
  const unused = 'http://127.0.0.1:9';
  return [
    identitySchemaModule(pool),
    createNotificationService({ pool, log, smtpUrl: 'smtp://127.0.0.1:9', recipients: { cases: noCases, directory: { relations: async () => undefined } } }),
    createHrService({ pool, log, notificationUrl: unused, cases: noCases }),
    createAccessService({ pool, log, cases: noCases }),
    { name: 'ems', schema: EMS_SCHEMA, migrations, routes: async () => undefined, seed: (org) => createDirectory(createEmsDb(pool)).seed(org) },
  ];
}

/** Migrating needs no key: the webhooks built here never register, deliver or start. */
const noSecrets = {
  encrypt(): never {
    throw new Error('the webhook service built for migrating has no secrets key');
  },
  decrypt(): never {
    throw new Error('the webhook service built for migrating has no secrets key');
  },
};

/** Every service module this configuration runs, webhooks and extensions included: for `ems migrate`. */
export async function buildAllServiceModules(pool: Pool, log: Logger, config: Config): Promise<ServiceModule<DemoOrg>[]> {
  // Built, never started: nothing here connects or subscribes.
  const bus = createPostgresEventBus({ pool, log, catalogue: events.EventSchemas, defaultRetry: { maxAttempts: 1, backoffMs: 1000 } });
  const extensions = await loadExtensions(config.extensions, { pool, log, clock: systemClock, bus, env: process.env });
  return [
    ...buildServiceModulesForSeeding(pool, log),
    createWebhookService({ pool, log, clock: systemClock, bus, catalogue: events.EventSchemas, secrets: noSecrets, ...config.webhooks }),
    ...extensions,
  ];
}
