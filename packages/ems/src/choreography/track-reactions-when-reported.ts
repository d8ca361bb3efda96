/*
 * Choreography: EMS learns what happened to a case only from the participants' outcome events. This
 * subscriber (the tracker) maps each reported event onto the case: the step it settles, a timeline
 * entry worded as the orchestrator words the same outcome (domain/summaries.ts), and the
 * case status, which follows from the steps (resignations/settlement.ts).
 *
 *   Notification ─ managerNotified / …Failed ─────────┐
 *   HR ─────────── exitInterviewScheduled / …Failed ──┼──▶ track-reactions-when-reported ──▶ steps, timeline, status
 *   Access ─────── criticalAccessSuspended / …Failed ─┘        (once per event; the events that arrive
 *                                                               together, in one transaction)
 */
import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import { handledTogether, type Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { lockCasesOf, recordFirstReportedIn, writeRecorded } from '../resignations/record-reported.ts';

export { OUTCOME_EVENT_TYPES } from '../resignations/record-reported.ts';

/** The subscriber name of EMS's tracker (choreography); it keys EMS's processed-event records. */
export const TRACKER = 'ems.track-reactions-when-reported';

/**
 * Deliveries of the tracker handled at once in a process (the bus's default is 4), recorded together: in a
 * burst each case reports three outcomes, and each was a transaction of its own.
 */
export const TRACKER_CONCURRENCY = 16;
/**
 * Deliveries one of its workers fetches and records at once: one transaction, one fetch, one completion. Measured
 * (burst of 2,000, choreography), 8 → 16: the tracker's transactions 0.43 → 0.23 per case, commits per case
 * 8.83–8.96 → 8.14–8.34.
 */
export const TRACKER_BATCH = 16;
/**
 * Ms a delivery waits for others to be fetched with it. In a burst the outcomes came a few at a time, and the
 * faster the tracker recorded them the fewer each fetch found (and each fetch was a transaction and a
 * completion too). A case's timeline shows an outcome this much later; no reaction waits for it.
 */
export const TRACKER_LINGER_MS = 100;

/**
 * The tracker: every event of `types()` (read at each subscribe, so an extension's events count) recorded on its
 * case, once. The deliveries that arrive while it writes are recorded in its next transaction (eventbus's
 * handledTogether), recorded processed there by one statement, their cases locked and read by two, and what they
 * recorded written by one.
 */
export function trackReactionsWhenReported(deps: { db: Kysely<EmsDb>; clock: Clock; types: () => string[] }): Subscription {
  const record = handledTogether({
    db: deps.db,
    // The cases of a transaction's deliveries locked and read by two statements (were two each).
    prepare: lockCasesOf,
    handle: (_trx, event, cases) => Promise.resolve(recordFirstReportedIn(deps.clock, event, cases)),
    // What they recorded written by one statement (was one each).
    finish: (trx, cases) => writeRecorded(trx, cases.writes),
    max: TRACKER_CONCURRENCY,
    // The deliveries of a transaction recorded processed by one statement (was one each).
    once: { schema: 'ems', subscriber: TRACKER, seen: 'duplicate' },
  });
  return {
    name: TRACKER,
    get types() {
      return deps.types();
    },
    concurrency: TRACKER_CONCURRENCY,
    batch: TRACKER_BATCH,
    linger: TRACKER_LINGER_MS,
    handle: async (event) => {
      await record(event);
    },
  };
}
