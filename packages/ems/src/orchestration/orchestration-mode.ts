/*
 * Orchestration: EMS runs one durable DBOS workflow per case (resignation.workflow.ts, then its
 * decision phase, decision.workflow.ts), calling Notification, HR and Access through their typed
 * commands. This assembles it for the composition root: the case store (which finds the cases whose
 * workflow never started through DBOS's own table), the starter and decider, what the orchestrator
 * listens to on the bus, the workflow engine's tables, and its launch and shutdown with the replica
 * watchdog.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { CallAuth, Clock, Logger, Pool } from '@ems/platform';
import type { EventBus, EventCatalogue } from '@ems/eventbus';
import type { FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import type { EmsDb } from '../db/types.ts';
import { createCaseStore } from '../resignations/case-store.ts';
import type { CoordinationMode } from '../resignations/coordination-mode.ts';
import { casesWithoutWorkflow } from './cases-without-workflow.ts';
import { dbosLogger } from './dbos-logger.ts';
import { createDecisionOrchestrator } from './decision.workflow.ts';
import { END_WAIT_WHEN_ACCESS_REVOKED_SUBSCRIBER, endWaitWhenAccessRevoked } from './end-wait-when-access-revoked.ts';
import { createParticipants, type ParticipantUrls } from './participants.ts';
import { RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER, recordReportedWhenOrchestrated } from './record-reported-when-orchestrated.ts';
import { startReplicaWatchdog } from './replica-watchdog.ts';
import { createResignationOrchestrator, orchestrationStarter } from './resignation.workflow.ts';
import type { RetryPolicy } from './tracked-step.ts';

/** Bumped when the workflow's step sequence changes: DBOS recovers only workflows of its own version. */
export const WORKFLOW_VERSION = 'resignation-v3';

/** EMS's subscribers in orchestration only: a database that ran in it before keeps them, so choreography unsubscribes them. */
export const ORCHESTRATION_SUBSCRIBERS: readonly string[] = [END_WAIT_WHEN_ACCESS_REVOKED_SUBSCRIBER, RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER];

export function orchestrationMode(deps: {
  db: Kysely<EmsDb>;
  /** EMS's pool (the replica watchdog's heartbeats). */
  pool: Pool;
  /** The URL EMS's role logs in with: DBOS makes its own pool from it. */
  systemDatabaseUrl: string;
  /** DBOS's tables in EMS's database: their schema, and how the admin installs them (the composition root knows the roles). */
  workflowTables: { schema: string; install(adminUrl: string): Promise<void> };
  clock: Clock;
  bus: EventBus;
  stepDeadlineSeconds: number;
  /** The events on the bus (an extension's too): what participants report beside the workflow's steps is recorded on the case. */
  catalogue: EventCatalogue;
  retry: RetryPolicy;
  followUps: FollowUpPolicy;
  caseUrl: (id: string) => string;
  urls: () => ParticipantUrls;
  callAuth: CallAuth;
  /** Each replica its own executor id (its container's hostname unless named): DBOS recovers by it. */
  replica: { id: string | undefined; named: boolean; deadAfterMs: number };
  log: Logger;
}): CoordinationMode {
  const log = deps.log.child({ service: 'orchestrator' });
  const store = createCaseStore(deps.db, deps.clock, { bus: deps.bus, stepDeadlineSeconds: deps.stepDeadlineSeconds, casesWithoutWorkflow: casesWithoutWorkflow(deps.db, deps.workflowTables.schema) });
  const participants = createParticipants(deps.urls, deps.callAuth);
  const decisions = createDecisionOrchestrator({ store, participants, retry: deps.retry, clock: deps.clock, policy: deps.followUps, caseUrl: deps.caseUrl, log });
  const starter = orchestrationStarter(createResignationOrchestrator({ store, participants, retry: deps.retry, log, decisionPhase: decisions.phase }));
  let launched = false;
  return {
    mode: 'orchestration',
    store,
    starter,
    decider: { decide: (id, input) => decisions.decide(id, input) },
    subscriptions: [endWaitWhenAccessRevoked({ decisions, launched: () => launched, log }), recordReportedWhenOrchestrated({ db: deps.db, clock: deps.clock, catalogue: deps.catalogue })],
    install: (adminUrl) => deps.workflowTables.install(adminUrl),
    async start(retrying) {
      DBOS.setConfig({
        name: 'ems',
        // As EMS's role, which may use the workflow tables but not create them: installed by the admin.
        systemDatabaseUrl: deps.systemDatabaseUrl,
        runMigrations: false,
        systemDatabaseSchemaName: deps.workflowTables.schema,
        systemDatabasePoolSize: 20,
        runAdminServer: false,
        applicationVersion: WORKFLOW_VERSION,
        ...(deps.replica.named ? { executorID: deps.replica.id ?? hostname() } : {}),
        logger: dbosLogger(deps.log.child({ component: 'dbos' })),
      });
      await retrying('launching the workflow engine', async () => {
        try {
          await DBOS.launch();
        } catch (err) {
          // A launch that failed half-way counts as launched: undo it, so the retry recovers and starts queues.
          await DBOS.shutdown().catch(() => undefined);
          throw err;
        }
      });
      launched = true;
      const watchdog = startReplicaWatchdog({
        pool: deps.pool,
        executorId: DBOS.executorID,
        applicationVersion: WORKFLOW_VERSION,
        deadAfterMs: deps.replica.deadAfterMs,
        heartbeatMs: Math.min(2_000, deps.replica.deadAfterMs / 4),
        log: deps.log.child({ component: 'replicas' }),
      });
      // In shutdown's order: stop beating, shut DBOS down, then hand the waiting workflows over.
      const stops = [() => watchdog.stop(), () => DBOS.shutdown({ deregister: true }), () => watchdog.handOver()];
      // A clock that can jump (EMS_CLOCK_OFFSET): a wait begun on another clock before this start must
      // end now, or a timer set on the system clock keeps real time.
      if (deps.clock.maxWaitMs !== undefined) {
        try {
          const woken = await decisions.wakeWaiting(randomUUID());
          if (woken) log.info({ woken }, 'waiting cases woken to look at the clock this process keeps');
        } catch (err) {
          for (const stop of stops) await stop().catch(() => undefined);
          throw err;
        }
      }
      return stops;
    },
  };
}
