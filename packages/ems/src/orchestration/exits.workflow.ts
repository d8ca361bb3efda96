/*
 * Orchestrated involuntary exits: one durable DBOS workflow per batch, its workflow id = the batch id.
 *
 *   POST /api/exits ──open the batch and its cases (one transaction)──startWorkflow(batchId)──▶ 202
 *
 *   phase 1, ≤4 chunks (≤500 people each) at a time: Access  POST /api/access/exit-suspensions  ──▶ record set-based
 *        every grant of EVERY person of the batch suspended, revocations scheduled
 *   phase 2, ≤4 chunks at a time:            Notification POST /api/notification/exit-notices ──▶ record set-based
 *        only the people Access reported suspended: the notice says access is suspended
 *   then each case waits for its accessRevoked (per case, at revokeAt) → exited (record-exit-revocations).
 *
 * So no email of the batch leaves before every person's access is suspended (in choreography the order
 * holds per chunk: a chunk's notices follow that chunk's suspension).
 * Steps are at-least-once: both commands are idempotent by (batchId, chunk) and the recorders by step state.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { Kysely } from 'kysely';
import type { Clock, Logger } from '@ems/platform';
import type { EmsDb } from '../db/types.ts';
import { openBatch, Rollback, type ExitBatchStore } from '../exits/exit-batch.store.ts';
import { recordAccessSuspended, recordExitRevoked, recordNoticesSent } from '../exits/record-exit-outcomes.ts';
import { AccessRevoked, EventTypes } from '@ems/contracts/events';
import { firstDelivery, type Subscription } from '@ems/eventbus';
import type { ExitStarter } from '../exits/start-exits.ts';
import type { Participants } from './participants.ts';
import { isRetryable, message, retryDelayMs, type RetryPolicy } from './tracked-step.ts';

export const EXITS_WORKFLOW_NAME = 'involuntary-exits';

/** Runs `work` once one of n places is free (in the order asked), and frees it when `work` settles. */
type Slots = <T>(work: () => Promise<T>) => Promise<T>;
function slots(n: number): Slots {
  let free = n;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
/** Chunk calls in flight at once per batch. */
const CHUNKS_AT_ONCE = 4;

export function createExitsOrchestrator(deps: {
  db: Kysely<EmsDb>;
  exits: ExitBatchStore;
  participants: Pick<Participants, 'suspendAccessForExit' | 'sendExitNotices'>;
  retry: RetryPolicy;
  clock: Clock;
  log: Logger;
}) {
  const { exits, participants, retry } = deps;

  /** Calls a participant with retries (transient errors only); the error's reason if it gave up. */
  async function attempt<T>(what: string, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    for (let n = 1; ; n++) {
      try {
        return { ok: true, value: await call() };
      } catch (err) {
        if (!isRetryable(err) || n >= retry.maxAttempts) return { ok: false, error: message(err) };
        deps.log.warn({ err, attempt: n, what }, 'involuntary exits: a participant call failed; retrying');
        await sleep(retryDelayMs(retry, n));
      }
    }
  }

  /**
   * Phase 1 of one chunk: Access suspends every grant; recorded on each case. The ids suspended. `slot`: the
   * chunk reads its people and calls Access inside it; its recording in EMS runs after it is let go, beside
   * the next chunk's call (in waves, each wave's recording held up the next wave's call).
   */
  async function suspendChunk(batchId: string, chunk: number, slot: Slots): Promise<string[]> {
    const called = await slot(async () => {
      const b = await exits.batch(batchId);
      if (!b) throw new Error(`exit batch ${batchId} does not exist`);
      const people = await exits.chunk(batchId, chunk);
      if (!people.length) return undefined;
      const request = { batchId, chunk, chunks: b.chunks, revokeAt: b.revokeAt ? new Date(b.revokeAt).toISOString() : null, reason: b.reason, exits: people };
      const ctx = { correlationId: batchId, traceparent: b.traceparent, onBehalfOf: b.createdBy, idempotencyKey: `${batchId}:suspend:${chunk}` };
      return { people, answer: await attempt('suspendAccessForExit', () => participants.suspendAccessForExit(request, ctx)) };
    });
    if (!called) return [];
    const { people, answer } = called;
    const outcome = answer.ok
      ? answer.value
      : { batchId, chunk, suspended: [], failed: people.map((p) => ({ resignationId: p.resignationId, employeeId: p.employeeId, reason: answer.error })) };
    await recordAccessSuspended(deps.db, outcome, deps.clock.now(), null);
    return outcome.suspended.map((s) => s.resignationId);
  }

  /** Phase 2 of one chunk: Notification tells the people Access suspended; recorded on each case. */
  async function tellChunk(batchId: string, chunk: number, suspended: readonly string[], slot: Slots): Promise<void> {
    if (!suspended.length) return;
    const called = await slot(async () => {
      const b = await exits.batch(batchId);
      if (!b) throw new Error(`exit batch ${batchId} does not exist`);
      const only = new Set(suspended);
      const people = (await exits.chunk(batchId, chunk)).filter((p) => only.has(p.resignationId));
      const ctx = { correlationId: batchId, traceparent: b.traceparent, idempotencyKey: `${batchId}:notices:${chunk}` };
      return { people, answer: await attempt('sendExitNotices', () => participants.sendExitNotices({ batchId, chunk, reason: b.reason, exits: people }, ctx)) };
    });
    const { people, answer } = called;
    const outcome = answer.ok ? answer.value : { batchId, chunk, sent: [], failed: people.map((p) => ({ resignationId: p.resignationId, reason: answer.error })) };
    await recordNoticesSent(deps.db, outcome, deps.clock.now(), null);
  }

  async function exitsWorkflow(batchId: string): Promise<{ id: string; chunks: number }> {
    const chunks = await DBOS.runStep(async () => (await exits.batch(batchId))?.chunks ?? 0, { name: 'chunks' });
    const numbers = Array.from({ length: chunks }, (_, i) => i + 1);
    // Every chunk's step is called at once, in chunk order — DBOS numbers a step when it is called, before any
    // await, so a replay sees the same sequence — and at most CHUNKS_AT_ONCE of them call the participant at a
    // time: as one chunk's call ends the next begins (one chunk at a time left EMS and Access each idle while the
    // other worked; waves of 4 waited for each wave's slowest chunk and its recording).
    const toAccess = slots(CHUNKS_AT_ONCE);
    const suspended = await Promise.all(numbers.map((chunk) => DBOS.runStep(() => suspendChunk(batchId, chunk, toAccess), { name: `suspend.${chunk}` })));
    const toNotification = slots(CHUNKS_AT_ONCE);
    await Promise.all(numbers.map((chunk) => DBOS.runStep(() => tellChunk(batchId, chunk, suspended[chunk - 1]!, toNotification), { name: `notices.${chunk}` })));
    return { id: batchId, chunks };
  }

  const workflow = DBOS.registerWorkflow(exitsWorkflow, { name: EXITS_WORKFLOW_NAME });
  const startWorkflow = async (batchId: string) => {
    await DBOS.startWorkflow(workflow, { workflowID: batchId })(batchId);
  };

  return { startWorkflow };
}

/** How a batch starts in orchestration: opened (one transaction), then its workflow started; a repeat starts it if it is not. */
export function orchestrationExitStarter(db: Kysely<EmsDb>, orchestrator: ReturnType<typeof createExitsOrchestrator>): ExitStarter {
  return {
    mode: 'orchestration',
    async start(batch) {
      let outcome;
      try {
        outcome = await db.transaction().execute(async (trx) => {
          const opened = await openBatch(trx, batch);
          if (opened.outcome === 'conflict') throw new Rollback(opened);
          return opened;
        });
      } catch (err) {
        if (err instanceof Rollback) return err.outcome;
        throw err;
      }
      await orchestrator.startWorkflow(batch.id);
      return outcome;
    },
    resume: (batchId) => orchestrator.startWorkflow(batchId),
  };
}

export const RECORD_EXIT_REVOCATIONS_SUBSCRIBER = 'ems.record-exit-revocations';

/**
 * Orchestration: an involuntary case has no workflow of its own waiting for its revocation (the batch's ends
 * once everyone is told): Access's accessRevoked, at each person's revokeAt, is recorded here (once per event).
 */
export function recordExitRevocations(deps: { db: Kysely<EmsDb>; clock: Clock }): Subscription {
  return {
    name: RECORD_EXIT_REVOCATIONS_SUBSCRIBER,
    types: [EventTypes.accessRevoked],
    async handle(event) {
      const data = AccessRevoked.parse(event.data);
      await deps.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, 'ems', RECORD_EXIT_REVOCATIONS_SUBSCRIBER, event.id))) return;
        await recordExitRevoked(trx, data, deps.clock.now(), event.id);
      });
    },
  };
}
