import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import { EventTypes } from '@ems/contracts/events';
import type { EventCatalogue, Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { OUTCOME_EVENT_TYPES, recordReported, reportedTypes } from '../resignations/record-reported.ts';

export const RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER = 'ems.record-reported-when-orchestrated';

/** What the workflow records on the case itself, from the participants' answers: never recorded twice. */
const RECORDED_BY_THE_WORKFLOW = new Set<string>([...OUTCOME_EVENT_TYPES, EventTypes.accessRevocationScheduled, EventTypes.followUpSent]);

/**
 * Orchestration: what participants report that no step of the workflow records — an interview held,
 * a follow-up HR skipped (HR's own outcome: the workflow only learns that it is no longer due), an
 * extension's events (e.g. an asset recovery task opened) — goes on the case's timeline as in
 * choreography, by the same code in the same words, so a case's timeline holds the same entries in both modes.
 */
export function recordReportedWhenOrchestrated(deps: { db: Kysely<EmsDb>; clock: Clock; catalogue: EventCatalogue }): Subscription {
  return {
    name: RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER,
    get types() {
      return reportedTypes(deps.catalogue).filter((t) => !RECORDED_BY_THE_WORKFLOW.has(t));
    },
    handle: async (event) => {
      await recordReported(deps.db, deps.clock, event, RECORD_REPORTED_WHEN_ORCHESTRATED_SUBSCRIBER);
    },
  };
}
