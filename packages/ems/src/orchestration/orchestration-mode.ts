/*
 * Orchestration: EMS runs durable DBOS workflows per case — its reactions (resignation.workflow.ts), then,
 * once a decision comes or a follow-up can be due, its decision phase (decision.workflow.ts) — calling
 * Notification, HR and Access through their typed commands. This assembles it for the composition root:
 * the case store, the starter (with the sweeper's queries of DBOS's own table for the workflows left to
 * start) and decider, what the orchestrator listens to on the bus, the workflow engine's tables, and its
 * launch and shutdown with the replica watchdog.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { createPreparingPool, type CallAuth, type Clock, type HttpTransport, type Logger, type Pool } from '@ems/platform';
import type { EventBus, EventCatalogue } from '@ems/eventbus';
import type { FollowUpPolicy } from '@ems/contracts/follow-up-policy';
import type { EmsDb } from '../db/types.ts';
import { createCaseStore, type CaseStoreOptions } from '../resignations/case-store.ts';
import type { CoordinationMode } from '../resignations/coordination-mode.ts';
import { casesWithoutWorkflow } from './cases-without-workflow.ts';
import { ADOPTABLE_VERSIONS, adoptWorkflowsOfOtherVersions, workflowsOfOtherVersions } from './workflows-of-other-versions.ts';
import { dbosLogger } from './dbos-logger.ts';
import { createDecisionOrchestrator, DECISION_WORKFLOW_NAME } from './decision.workflow.ts';
import { EXITS_WORKFLOW_NAME } from './exits.workflow.ts';
import { END_WAIT_WHEN_ACCESS_REVOKED_SUBSCRIBER, endWaitWhenAccessRevoked } from './end-wait-when-access-revoked.ts';
import { createParticipants, type ParticipantUrls } from './participants.ts';
import { RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER, recordReportedWhenOrchestrated } from './record-reported-when-orchestrated.ts';
import { startReplicaWatchdog } from './replica-watchdog.ts';
import { createResignationOrchestrator, orchestrationStarter } from './resignation.workflow.ts';
import type { RetryPolicy } from './tracked-step.ts';

/** Bumped when the workflow's step sequence changes: DBOS recovers only workflows of its own version. */
// v7: two workflows per case — the reactions ('resignation.reactions', id <case>:reactions, no DBOS step), then
// the decision phase ('resignation', id = the case's), started when a decision comes or a follow-up can be due.
// v6: the decision phase's 'start' step is read inside the 'reactions' step, with the reactions' failures
// recorded there too. v5: the three reactions are one DBOS step ('reactions'), not three. (v4 was the
// hold-first order of 4564ef3, reverted: a database may hold v4 workflows, so this is not v4.)
export const WORKFLOW_VERSION = 'resignation-v7';

/** Connections of the workflow engine's pool (DBOS's polling takes at most half of them). */
const SYSTEM_POOL_SIZE = 20;

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
  urls: () => ParticipantUrls;
  callAuth: CallAuth;
  /** How the participants are called (default over the network): see ParticipantCallOptions. */
  transport?: HttpTransport;
  /** Each replica its own executor id (its container's hostname unless named): DBOS recovers by it. */
  replica: { id: string | undefined; named: boolean; deadAfterMs: number };
  log: Logger;
  /** Told of each case opened (the in-process case lookup): see CaseStoreOptions.opened. */
  casesOpened?: CaseStoreOptions['opened'];
}): CoordinationMode {
  const log = deps.log.child({ service: 'orchestrator' });
  const store = createCaseStore(deps.db, deps.clock, { bus: deps.bus, stepDeadlineSeconds: deps.stepDeadlineSeconds, opened: deps.casesOpened });
  const unstarted = casesWithoutWorkflow(deps.db, deps.workflowTables.schema);
  const participants = createParticipants(deps.urls, deps.callAuth, deps.transport ? { transport: deps.transport } : {});
  const resignations = createResignationOrchestrator({ store, participants, retry: deps.retry, log, withoutReactionsWorkflow: unstarted.reactions });
  const decisions = createDecisionOrchestrator({
    store,
    participants,
    retry: deps.retry,
    clock: deps.clock,
    policy: deps.followUps,
    log,
    reactionsSettled: (draft) => resignations.settled(draft),
    decisionsDue: unstarted.decision,
    decisionStarted: unstarted.decisionStarted,
  });
  const starter = orchestrationStarter(resignations, decisions);
  let launched = false;
  return {
    mode: 'orchestration',
    store,
    starter,
    decider: { decide: (id, input) => decisions.decide(id, input) },
    subscriptions: [endWaitWhenAccessRevoked({ decisions, launched: () => launched, log }), recordReportedWhenOrchestrated({ db: deps.db, clock: deps.clock, catalogue: deps.catalogue })],
    install: (adminUrl) => deps.workflowTables.install(adminUrl),
    async start(retrying) {
      const executorID = deps.replica.named ? (deps.replica.id ?? hostname()) : undefined;
      const dbosLog = deps.log.child({ component: 'dbos' });
      // DBOS's statements as named prepared statements (planned once per connection, not at every call:
      // its status check alone ran 15 times per case). The settings DBOS gives a pool of its own: its
      // size, its application name, the idle-in-transaction timeout, and an error handler.
      const systemPool = createPreparingPool(deps.systemDatabaseUrl, {
        max: SYSTEM_POOL_SIZE,
        applicationName: `dbos_transact_${executorID ?? process.env.DBOS__VMID ?? 'local'}_${WORKFLOW_VERSION}`,
        prefix: 'dbos',
        sessionSettings: { idle_in_transaction_session_timeout: 60_000 },
        onError: (err) => dbosLog.warn({ err }, 'unexpected error on an idle workflow-engine connection'),
      });
      DBOS.setConfig({
        name: 'ems',
        // As EMS's role, which may use the workflow tables but not create them: installed by the admin.
        systemDatabaseUrl: deps.systemDatabaseUrl,
        systemDatabasePool: systemPool,
        runMigrations: false,
        systemDatabaseSchemaName: deps.workflowTables.schema,
        runAdminServer: false,
        applicationVersion: WORKFLOW_VERSION,
        ...(executorID !== undefined ? { executorID } : {}),
        logger: dbosLogger(dbosLog),
      });
      try {
        await retrying('launching the workflow engine', async () => {
          try {
            await DBOS.launch();
          } catch (err) {
            // A launch that failed half-way counts as launched: undo it, so the retry recovers and starts queues.
            await DBOS.shutdown().catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        await systemPool.end().catch(() => undefined);
        throw err;
      }
      launched = true;
      // Cases whose workflow an earlier version began (an upgrade that changed the step sequence): this
      // version takes over those it can replay without doing anything twice, and says which others wait.
      try {
        const adopted = await adoptWorkflowsOfOtherVersions(deps.pool, deps.workflowTables.schema, {
          version: WORKFLOW_VERSION,
          from: ADOPTABLE_VERSIONS,
          names: [DECISION_WORKFLOW_NAME, EXITS_WORKFLOW_NAME],
        });
        if (adopted.length) log.warn({ workflows: adopted.length }, `${adopted.length} running workflow(s) begun under ${ADOPTABLE_VERSIONS.join(' or ')} taken over by this version (${WORKFLOW_VERSION}): each replays from its first step, doing nothing twice`);
      } catch (err) {
        log.error({ err }, 'could not take over the running workflows of an earlier version; they wait until the next start');
      }
      try {
        for (const other of await workflowsOfOtherVersions(deps.pool, deps.workflowTables.schema, WORKFLOW_VERSION)) {
          log.warn(
            { version: other.version, workflows: other.workflows },
            `${other.workflows} running workflow(s) begun under version ${other.version ?? '(none)'} wait: this version (${WORKFLOW_VERSION}) does not resume them (README, Operations: "Upgrading with cases open")`,
          );
        }
      } catch (err) {
        log.warn({ err }, 'could not count the running workflows of other versions');
      }
      const watchdog = startReplicaWatchdog({
        pool: deps.pool,
        executorId: DBOS.executorID,
        applicationVersion: WORKFLOW_VERSION,
        deadAfterMs: deps.replica.deadAfterMs,
        heartbeatMs: Math.min(2_000, deps.replica.deadAfterMs / 4),
        log: deps.log.child({ component: 'replicas' }),
      });
      // In shutdown's order: stop beating, shut DBOS down, then hand the waiting workflows over.
      // DBOS leaves a pool it was given open: it is ended after DBOS.
      const stops = [() => watchdog.stop(), () => DBOS.shutdown({ deregister: true }), () => systemPool.end(), () => watchdog.handOver()];
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
