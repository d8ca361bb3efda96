/*
 * Choreography: EMS learns what happened to a case only from the participants' outcome events. This
 * subscriber (the tracker) maps each reported event onto the case: the step it settles, a timeline
 * entry worded as the orchestrator words the same outcome (domain/summaries.ts), and the
 * case status, which follows from the steps (resignations/settlement.ts).
 *
 *   Notification ─ managerNotified / …Failed ─────────┐
 *   HR ─────────── exitInterviewScheduled / …Failed ──┼──▶ track-reactions-when-reported ──▶ steps, timeline, status
 *   Access ─────── criticalAccessSuspended / …Failed ─┘        (once per event, one transaction)
 */
import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import type { Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { recordReported } from '../resignations/record-reported.ts';

export { OUTCOME_EVENT_TYPES } from '../resignations/record-reported.ts';

/** The subscriber name of EMS's tracker (choreography); it keys EMS's processed-event records. */
export const TRACKER = 'ems.track-reactions-when-reported';

/** The tracker: every event of `types()` (read at each subscribe, so an extension's events count) recorded on its case. */
export function trackReactionsWhenReported(deps: { db: Kysely<EmsDb>; clock: Clock; types: () => string[] }): Subscription {
  return {
    name: TRACKER,
    get types() {
      return deps.types();
    },
    handle: async (event) => {
      await recordReported(deps.db, deps.clock, event, TRACKER);
    },
  };
}
