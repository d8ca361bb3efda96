import { createKysely, systemClock, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus, EventedService } from '@ems/eventbus';
import { sql } from 'kysely';
import { registerListAuditRoute } from './audit/list-audit.http.ts';
import { registerCreateHoldRoute } from './create-hold/create-hold.http.ts';
import { suspendAccessWhenResignationSubmitted } from './create-hold/suspend-access-when-resignation-submitted.ts';
import { ACCESS_SCHEMA, type AccessDB } from './db/access.db.ts';
import { migrations } from './db/migrations.ts';
import { registerEffectiveAccessRoute } from './effective-access/effective-access.http.ts';
import { registerReadHoldsRoutes } from './read-holds/read-holds.http.ts';
import { registerReleaseHoldRoute } from './release-hold/release-hold.http.ts';
import { seedAccess } from './seed/seed.ts';
import { registerListSystemsRoute } from './systems/list-systems.http.ts';

export { ACCESS_SCHEMA };

export interface AccessServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
  /**
   * The event bus. When present, every new hold publishes `criticalAccessSuspended` in the hold's
   * transaction, whichever way it was requested (both modes). Without it nothing is published.
   */
  bus?: EventBus;
  /** Choreography: subscribe to `resignationSubmitted` and suspend access on it. Needs `bus`. */
  reactToEvents?: boolean;
}

/** The Access service: systems, grants, and access holds that suspend critical access during an exit. */
export function createAccessService(deps: AccessServiceDeps): ServiceModule<DemoOrg> & EventedService {
  if (deps.reactToEvents && !deps.bus) throw new Error('access: reactToEvents needs a bus');
  const db = createKysely<AccessDB>(deps.pool, ACCESS_SCHEMA);
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ service: 'access' });
  const bus = deps.bus;
  return {
    name: 'access',
    schema: ACCESS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerCreateHoldRoute(app, { db, clock, log, bus });
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
    ...(deps.reactToEvents && bus ? { subscriptions: [suspendAccessWhenResignationSubmitted({ db, clock, log, bus })] } : {}),
  };
}
