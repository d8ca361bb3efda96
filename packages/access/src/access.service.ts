import { createKysely, systemClock, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import { sql } from 'kysely';
import { registerListAuditRoute } from './audit/list-audit.http.ts';
import { registerCreateHoldRoute } from './create-hold/create-hold.http.ts';
import type { AccessDB } from './db/access.db.ts';
import { migrations } from './db/migrations.ts';
import { registerEffectiveAccessRoute } from './effective-access/effective-access.http.ts';
import { registerReadHoldsRoutes } from './read-holds/read-holds.http.ts';
import { registerReleaseHoldRoute } from './release-hold/release-hold.http.ts';
import { seedAccess } from './seed/seed.ts';
import { registerListSystemsRoute } from './systems/list-systems.http.ts';

export const ACCESS_SCHEMA = 'access';

export interface AccessServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
}

/** The Access service: systems, grants, and access holds that suspend critical access during an exit. */
export function createAccessService(deps: AccessServiceDeps): ServiceModule<DemoOrg> {
  const db = createKysely<AccessDB>(deps.pool, ACCESS_SCHEMA);
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ service: 'access' });
  return {
    name: 'access',
    schema: ACCESS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerCreateHoldRoute(app, { db, clock, log });
      registerReleaseHoldRoute(app, { db, clock, log });
      registerReadHoldsRoutes(app, db);
      registerEffectiveAccessRoute(app, db);
      registerListAuditRoute(app, db);
      registerListSystemsRoute(app, db);
    },
    readiness: {
      access: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    seed: (org) => seedAccess(db, org),
  };
}
