import { ConfigError, createKysely, systemClock, type CaseLookup, type Clock, type Logger, type Pool, type Poller, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus, EventedService, Subscription } from '@ems/eventbus';
import { sql } from 'kysely';
import { registerListAuditRoute } from './audit/list-audit.http.ts';
import { registerVerifyAuditRoute } from './audit/verify-audit-chain.http.ts';
import { createAuditSealer, type AuditSealerOptions } from './audit/seal-audit.ts';
import { registerSuspendAccessRoute } from './suspend-access/suspend-access.http.ts';
import { suspendAccessWhenResignationSubmitted } from './suspend-access/suspend-access-when-resignation-submitted.ts';
import { ACCESS_SCHEMA, type AccessDB } from './db/access.db.ts';
import { migrations } from './db/migrations.ts';
import { registerEffectiveAccessRoute } from './effective-access/effective-access.http.ts';
import { registerReadHoldsRoutes } from './read-holds/read-holds.http.ts';
import { registerReadRevocationsRoutes } from './read-revocations/read-revocations.http.ts';
import { restoreAccessWhenResignationClosed } from './restore-access/restore-access-when-resignation-closed.ts';
import { registerRestoreAccessRoutes } from './restore-access/restore-access.http.ts';
import { createRevocationTimer } from './revoke-access/revocation-timer.ts';
import { registerRevokeAccessRoute } from './revoke-access/revoke-access.http.ts';
import { scheduleRevocationWhenExitConfirmed } from './revoke-access/schedule-revocation-when-exit-confirmed.ts';
import { seedAccess } from './seed/seed.ts';
import { createConnectorWorker } from './connectors/apply-changes/apply-changes.worker.ts';
import { abandonUnconnectedChanges } from './connectors/apply-changes/apply-change.ts';
import { NO_CONNECTED_SYSTEMS, openConnectedSystems, type ConnectedSystems, type SystemConfig } from './connectors/registry.ts';
import { readSecretFile } from './connectors/systems-file.ts';
import { upsertConfiguredSystems } from './connectors/upsert-systems.ts';
import { updateIdentityWhenPersonChanged } from './identities/update-identity-when-person-changed.ts';
import { registerListSystemsRoute } from './systems/list-systems.http.ts';
import { createReconciler } from './detect-drift/reconciler.ts';
import { registerRunReconciliationRoute } from './detect-drift/run-reconciliation.http.ts';
import { registerListDriftsRoute } from './detect-drift/list-drifts.http.ts';
import { registerSuspendAccessForExitRoute } from './suspend-access-for-exit/suspend-access-for-exit.http.ts';
import { suspendAccessWhenExitsStarted } from './suspend-access-for-exit/suspend-access-when-exits-started.ts';

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
  /**
   * The systems file's systems (connectors/systems-file.ts): upserted into access.systems at start;
   * each connected one gets its connector, opened here (a connector's start-up error is a ConfigError).
   */
  systems?: readonly SystemConfig[];
  /** Instead of opening `systems`' connectors: connectors made already (tests). Their systems are upserted at start. */
  connectedSystems?: ConnectedSystems;
  /** The connector worker (both modes): poll interval, per-call deadline, attempts and backoff. */
  connectorWorker?: Partial<{ intervalMs: number; timeoutMs: number; maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number; leaseMarginMs: number }>;
  /**
   * Drift detection (both modes, every process; one round at a time across them): every `intervalMs`
   * (default 5 min) each connected system that can read accounts back is compared with what Access
   * believes; `timeoutMs` per read (default 10 s), `concurrency` reads at once (default 4).
   */
  reconcile?: Partial<{ intervalMs: number; pollMs: number; timeoutMs: number; concurrency: number }>;
  /** The audit sealer (both modes, every process): how often it links written entries into the hash chain. */
  auditSealer?: AuditSealerOptions;
}

/** The service, and its audit sealer (`drained()`: every audit entry committed before the call is linked into the chain). */
export type AccessService = ServiceModule<DemoOrg> &
  EventedService & {
    auditSealer: Pick<Poller, 'drained' | 'rounds'>;
    /** The revocation timer (both modes): tests wait on its drained() — a look at the clock — instead of sleeping. */
    revocationTimer: Pick<Poller, 'drained' | 'rounds'>;
  };

/** The Access service: systems, grants, access holds during an exit, and the revocation of a leaver's access. */
export function createAccessService(deps: AccessServiceDeps): AccessService {
  if (deps.reactToEvents && !deps.bus) throw new Error('access: reactToEvents needs a bus');
  const timerIntervalMs = deps.timerIntervalMs ?? 1_000;
  if (!Number.isFinite(timerIntervalMs) || timerIntervalMs <= 0) throw new Error(`access: timerIntervalMs must be a positive number of milliseconds, got ${timerIntervalMs}`);
  const db = createKysely<AccessDB>(deps.pool, ACCESS_SCHEMA);
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ service: 'access' });
  const bus = deps.bus;
  const connected = deps.connectedSystems ?? openConnectors(deps.systems ?? [], log);
  const w = deps.connectorWorker ?? {};
  const worker = createConnectorWorker(
    { db, clock, log: log.child({ component: 'connectors' }), bus, systems: connected },
    {
      intervalMs: w.intervalMs ?? 1_000,
      timeoutMs: w.timeoutMs ?? 30_000,
      maxAttempts: w.maxAttempts ?? 10,
      baseMs: w.backoffBaseMs ?? 1_000,
      maxMs: w.backoffMaxMs ?? 300_000,
      ...(w.leaseMarginMs === undefined ? {} : { leaseMarginMs: w.leaseMarginMs }),
    },
  );
  const ctx = { db, clock, log, bus, wakeConnectors: () => worker.wake(), connected };
  const timer = createRevocationTimer(ctx, { intervalMs: timerIntervalMs });
  const r = deps.reconcile ?? {};
  const reconciler = createReconciler(
    { db, clock, log: log.child({ component: 'reconciler' }), bus, systems: connected, concurrency: r.concurrency ?? 4, timeoutMs: r.timeoutMs ?? 10_000 },
    { intervalMs: r.intervalMs ?? 300_000, ...(r.pollMs === undefined ? {} : { pollMs: r.pollMs }) },
  );
  const sealer = createAuditSealer({ db, log: log.child({ component: 'audit-sealer' }) }, deps.auditSealer);
  const subscriptions: Subscription[] = [
    ...(deps.reactToEvents && bus
      ? [
          suspendAccessWhenResignationSubmitted({ ...ctx, bus }),
          restoreAccessWhenResignationClosed({ ...ctx, bus }),
          scheduleRevocationWhenExitConfirmed({ ...ctx, bus }),
          suspendAccessWhenExitsStarted({ ...ctx, bus }),
        ]
      : []),
    // Both modes: Access keeps its part of the directory (identities, emails) current.
    ...(bus ? [updateIdentityWhenPersonChanged(ctx)] : []),
  ];
  return {
    name: 'access',
    schema: ACCESS_SCHEMA,
    migrations,
    routes: async (app) => {
      registerSuspendAccessRoute(app, ctx, deps.cases);
      registerRestoreAccessRoutes(app, ctx, deps.cases);
      registerReadHoldsRoutes(app, db);
      registerRevokeAccessRoute(app, ctx, deps.cases);
      registerReadRevocationsRoutes(app, db);
      registerEffectiveAccessRoute(app, db);
      registerListAuditRoute(app, db);
      registerVerifyAuditRoute(app, ctx);
      registerListSystemsRoute(app, db, connected);
      registerRunReconciliationRoute(app, reconciler);
      registerListDriftsRoute(app, db);
      registerSuspendAccessForExitRoute(app, ctx);
    },
    readiness: {
      access: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    // The revocation timer and the connector worker run in both modes: changes come from the API or events.
    start: async () => {
      // The systems file is the whole truth about which systems are connected; connectors a test made are not.
      const authoritative = deps.systems !== undefined && deps.connectedSystems === undefined;
      await upsertConfiguredSystems(db, deps.systems ?? connected.all, authoritative);
      if (authoritative) await abandonUnconnectedChanges({ db, clock, log, bus }, connected.all.map((s) => s.id));
      else if (deps.systems === undefined && deps.connectedSystems === undefined) {
        // No systems file here: what an earlier file connected stays connected, carried by the processes that have it.
        const elsewhere = await db.selectFrom('systems').select('id').where('connector', '!=', 'builtin').execute();
        if (elsewhere.length > 0) {
          log.warn(
            { systems: elsewhere.map((s) => s.id) },
            'these systems are connected (by an earlier systems file) but not in this process, which has no EMS_ACCESS_SYSTEMS_FILE: their changes wait for a process that has the file; to disconnect them, start with a systems file that leaves them out',
          );
        }
      }
      timer.start();
      worker.start();
      reconciler.start();
      sealer.start();
    },
    stop: async () => {
      await timer.stop();
      await worker.stop();
      await reconciler.stop();
      await sealer.stop();
      await connected.close();
    },
    seed: (org) => seedAccess(db, org),
    ...(subscriptions.length > 0 ? { subscriptions } : {}),
    auditSealer: sealer,
    revocationTimer: timer,
  };
}

/** Opens the connectors of the systems file's systems; a connector refusing its settings stops start-up. */
function openConnectors(systems: readonly SystemConfig[], log: Logger): ConnectedSystems {
  if (systems.length === 0) return NO_CONNECTED_SYSTEMS;
  try {
    return openConnectedSystems(systems, log.child({ component: 'connectors' }), readSecretFile);
  } catch (err) {
    throw new ConfigError([`EMS_ACCESS_SYSTEMS_FILE: ${err instanceof Error ? err.message : String(err)}`]);
  }
}
