import { createKysely, systemClock, type CaseLookup, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus, EventedService, Subscription } from '@ems/eventbus';
import { sql } from 'kysely';
import { registerListAuditRoute } from './audit/list-audit.http.ts';
import { registerVerifyAuditRoute } from './audit/verify-audit-chain.http.ts';
import { registerCreateHoldRoute } from './create-hold/create-hold.http.ts';
import { suspendAccessWhenResignationSubmitted } from './create-hold/suspend-access-when-resignation-submitted.ts';
import { ACCESS_SCHEMA, type AccessDB } from './db/access.db.ts';
import { migrations } from './db/migrations.ts';
import { registerEffectiveAccessRoute } from './effective-access/effective-access.http.ts';
import { registerReadHoldsRoutes } from './read-holds/read-holds.http.ts';
import { registerReadRevocationsRoutes } from './read-revocations/read-revocations.http.ts';
import { liftHoldWhenResignationClosed } from './release-hold/lift-hold-when-resignation-closed.ts';
import { registerReleaseHoldRoute } from './release-hold/release-hold.http.ts';
import { createRevocationTimer } from './revoke-access/revocation-timer.ts';
import { registerRevokeAccessRoute } from './revoke-access/revoke-access.http.ts';
import { scheduleRevocationWhenExitConfirmed } from './revoke-access/schedule-revocation-when-exit-confirmed.ts';
import { seedAccess } from './seed/seed.ts';
import { registerListSystemsRoute } from './systems/list-systems.http.ts';

export { ACCESS_SCHEMA };

export interface AccessServiceDeps {
  pool: Pool;
  log: Logger;
  /** The clock every due instant is compared with (revocation timer included). Default: the system clock. */
  clock?: Clock;
  /**
   * The event bus. When present, Access publishes what it did in the transaction that did it, whichever
   * way it was asked (both modes): `criticalAccessSuspended` (new hold), `accessRestored` (hold released),
   * `accessRevocationScheduled` (revocation scheduled or moved), `accessRevoked` (revocation done).
   * Without it nothing is published.
   */
  bus?: EventBus;
  /**
   * Choreography: react to `resignationSubmitted` (suspend), `resignationRetained` / `resignationWithdrawn`
   * (lift the hold) and `exitConfirmed` (schedule the revocation). Needs `bus`.
   */
  reactToEvents?: boolean;
  /** How often the revocation timer looks for due revocations (started by start(), both modes). Default 1000 ms. */
  timerIntervalMs?: number;
  /** Whether a case exists and whose it is (EMS, asked over HTTP): access is suspended or revoked only for a real case. */
  cases: CaseLookup;
}

/** The Access service: systems, grants, access holds during an exit, and the revocation of a leaver's access. */
export function createAccessService(deps: AccessServiceDeps): ServiceModule<DemoOrg> & EventedService {
  if (deps.reactToEvents && !deps.bus) throw new Error('access: reactToEvents needs a bus');
  const timerIntervalMs = deps.timerIntervalMs ?? 1_000;
  if (!Number.isFinite(timerIntervalMs) || timerIntervalMs <= 0) throw new Error(`access: timerIntervalMs must be a positive number of milliseconds, got ${timerIntervalMs}`);
  const db = createKysely<AccessDB>(deps.pool, ACCESS_SCHEMA);
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ service: 'access' });
  const bus = deps.bus;
  const ctx = { db, clock, log, bus };
  const timer = createRevocationTimer(ctx, { intervalMs: timerIntervalMs });
  const subscriptions: Subscription[] =
    deps.reactToEvents && bus
      ? [suspendAccessWhenResignationSubmitted({ ...ctx, bus }), liftHoldWhenResignationClosed({ ...ctx, bus }), scheduleRevocationWhenExitConfirmed({ ...ctx, bus })]
      : [];
  return {
    name: 'access',
    schema: ACCESS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerCreateHoldRoute(app, ctx, deps.cases);
      registerReleaseHoldRoute(app, ctx);
      registerReadHoldsRoutes(app, db);
      registerRevokeAccessRoute(app, ctx, deps.cases);
      registerReadRevocationsRoutes(app, db);
      registerEffectiveAccessRoute(app, db);
      registerListAuditRoute(app, db);
      registerVerifyAuditRoute(app, ctx);
      registerListSystemsRoute(app, db);
    },
    readiness: {
      access: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    // The revocation timer runs in both modes: a scheduled revocation may come from the API or an event.
    start: async () => timer.start(),
    stop: () => timer.stop(),
    seed: (org) => seedAccess(db, org),
    ...(subscriptions.length > 0 ? { subscriptions } : {}),
  };
}
