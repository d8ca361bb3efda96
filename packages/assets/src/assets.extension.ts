import { createKysely, type ServiceModule } from '@ems/platform';
import type { Extension, ExtensionDeps, ExtensionFactory } from '@ems/eventbus';
import { sql } from 'kysely';
import type { AssetsContext } from './assets.context.ts';
import { registerCompleteRecoveryTaskRoute } from './complete-recovery-task/complete-recovery-task.http.ts';
import { assetsConfig } from './config.ts';
import { ASSETS_SCHEMA, type AssetsDB } from './db/assets.db.ts';
import { migrations } from './db/migrations.ts';
import { AssetEvents } from './events.ts';
import { AssetPolicy } from './policy.ts';
import { openRecoveryTaskWhenResignationSubmitted } from './open-recovery-task/open-recovery-task-when-resignation-submitted.ts';
import { registerReadRecoveryTasksRoutes } from './read-recovery-tasks/read-recovery-tasks.http.ts';

/**
 * IT asset recovery, an optional fifth service. It joins the resignation flow by subscribing only:
 * when an employee resigns it opens a task to collect their equipment by their last working day and
 * announces it. EMS loads it by module name (EMS_EXTENSIONS); no other package names it.
 *
 * Settings: EMS_ASSETS_ITEMS (see config.ts), validated here; an invalid value throws a ConfigError.
 */
export const createExtension: ExtensionFactory = (deps: ExtensionDeps): Extension => {
  const { items } = assetsConfig(deps.env);
  const db = createKysely<AssetsDB>(deps.pool, ASSETS_SCHEMA);
  const ctx: AssetsContext = { db, clock: deps.clock, log: deps.log.child({ service: 'assets' }), bus: deps.bus, items };
  const service: ServiceModule<never> = {
    name: 'assets',
    schema: ASSETS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerReadRecoveryTasksRoutes(app, db);
      registerCompleteRecoveryTaskRoute(app, ctx);
    },
    readiness: {
      assets: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
  };
  return { ...service, subscriptions: [openRecoveryTaskWhenResignationSubmitted(ctx)], events: AssetEvents, policy: AssetPolicy };
};
