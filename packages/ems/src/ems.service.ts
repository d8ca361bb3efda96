import { createKysely, createPoller, type App, type Clock, type Logger, type Pool, type Poller, type ServiceModule } from '@ems/platform';
import type { EventBus, EventCatalogue, EventedService, Extension, Subscription } from '@ems/eventbus';
import { migrations } from './db/migrations.ts';
import type { EmsDb } from './db/types.ts';
import type { CaseStore } from './resignations/case-store.ts';
import { resignationRoutes } from './resignations/resignations.http.ts';
import type { CaseStarter } from './resignations/submit-resignation.ts';
import type { CaseDecider } from './resignations/decide-resignation.ts';
import type { DemoOrg } from '@ems/demo-org';
import type { createDirectory } from './directory/directory.ts';
import { deadLetterRoutes } from './dead-letters/dead-letters.http.ts';
import { asyncApiRoute } from './asyncapi/asyncapi.http.ts';
import { createUpdatesHub } from './updates/updates-hub.ts';
import { updatesRoute } from './updates/updates.http.ts';
import { listenForCaseChanges } from './updates/case-changes.listener.ts';
import { watchDeadLetters } from './updates/dead-letter.watch.ts';
import { followUpRoutes } from './follow-ups/list-follow-ups.http.ts';
import { exitReportRoute } from './exit-report/exit-report.http.ts';
import { listExtensionsRoute } from './list-extensions/list-extensions.http.ts';
import type { FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import { recordSystemAccessWhenReported } from './connected-systems/record-system-access-when-reported.ts';
import { updateRosterWhenPersonChanged } from './directory/update-roster-when-person-changed.ts';

export const EMS_SCHEMA = 'ems';

export function createEmsDb(pool: Pool) {
  return createKysely<EmsDb>(pool, EMS_SCHEMA);
}

/** The service, and its sweeper (`drained()`: a sweep that began after the call has ended — late steps marked, workflows left unstarted started). */
export type EmsService = ServiceModule<DemoOrg> & EventedService & { sweeper: Pick<Poller, 'drained' | 'rounds'> };

/**
 * The EMS service: resignation intake and case tracking. How a case gets going is the starter's
 * business (a workflow, or an event); in choreography EMS learns what happened only from events.
 */
export function createEmsService(deps: {
  store: CaseStore;
  clock: Clock;
  noticeDays: number;
  directory: ReturnType<typeof createDirectory>;
  starter: CaseStarter;
  decider: CaseDecider;
  bus: EventBus;
  catalogue: EventCatalogue;
  /** The coordination mode's own subscribers: choreography's tracker, or what the orchestrator listens to (e.g. access revoked early). */
  subscriptions?: readonly Subscription[];
  sweepEveryMs: number;
  log: Logger;
  /** EMS's pool: live updates hold one of its connections to LISTEN for case changes. */
  pool: Pool;
  /** The follow-up policy (the same in both modes), for GET /api/follow-ups. */
  followUpPolicy: FollowUpPolicy;
  /** The extensions loaded (EMS_EXTENSIONS), for GET /api/extensions. */
  extensions?: { modules: readonly string[]; extensions: readonly Extension[] };
  /** More of EMS's routes, assembled by the composition root (involuntary and mass exits). */
  routes?: ReadonlyArray<(app: App) => Promise<void>>;
}): EmsService {
  // Late reactions are found by a sweep, in both modes: nobody else would notice a missing event. In
  // orchestration it also starts the workflows left unstarted (resignation.workflow.ts, `orchestrationStarter`),
  // on the injected clock. One failing half does not keep the other from running; the round then counts as failed.
  const sweeper = createPoller({
    name: 'case sweeper',
    log: deps.log,
    intervalMs: deps.sweepEveryMs,
    batch: 1,
    async work() {
      const failures: unknown[] = [];
      await deps.store.markOverdue().catch((err: unknown) => failures.push(new Error('could not mark late steps', { cause: err })));
      await deps.starter.startOrphans?.(deps.clock.now())?.catch((err: unknown) => failures.push(new Error('could not start the workflows left unstarted', { cause: err })));
      if (failures.length) throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'could not mark late steps, nor start the workflows left unstarted');
      return 0;
    },
  });
  let listener: ReturnType<typeof listenForCaseChanges> | undefined;
  // Changes are NOTIFYed only while some process has a stream open: this one says so when its first opens.
  const updates = createUpdatesHub({ log: deps.log, onActive: (active) => listener?.setActive(active) ?? Promise.resolve() });
  let stopUpdates: Array<() => Promise<void>> = [];
  return {
    name: 'ems',
    sweeper,
    schema: EMS_SCHEMA,
    migrations,
    subscriptions: [
      ...(deps.subscriptions ?? []),
      // Both modes: what connected systems did about a case, and the directory's changes to the roster.
      recordSystemAccessWhenReported({ db: createEmsDb(deps.pool), clock: deps.clock }),
      updateRosterWhenPersonChanged({ db: createEmsDb(deps.pool) }),
    ],
    seed: (org) => deps.directory.seed(org),
    routes: async (app) => {
      await resignationRoutes(deps)(app);
      await deadLetterRoutes(deps.bus)(app);
      await asyncApiRoute(deps.catalogue)(app);
      await updatesRoute(updates)(app);
      await listExtensionsRoute(deps.extensions ?? { modules: [], extensions: [] })(app);
      const db = createEmsDb(deps.pool);
      await exitReportRoute({ db, clock: deps.clock })(app);
      await followUpRoutes({ db, clock: deps.clock, policy: deps.followUpPolicy })(app);
      for (const routes of deps.routes ?? []) await routes(app);
    },
    async start() {
      // Live updates: every committed case change, whichever process made it; dead letters while an operator watches.
      listener = listenForCaseChanges(deps.pool, (change) => updates.caseChanged(change), deps.log.child({ component: 'updates' }));
      const started = listener;
      const deadLetters = watchDeadLetters(deps.bus.deadLetters, updates, deps.log.child({ component: 'updates' }));
      stopUpdates = [() => started.stop(), () => deadLetters.stop()];
      sweeper.start();
    },
    async stop() {
      await sweeper.stop();
      for (const stop of stopUpdates) await stop();
    },
  };
}
