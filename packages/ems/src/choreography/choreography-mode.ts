/*
 * Choreography: EMS opens the case and publishes `resignation submitted` in one transaction — that is
 * all it does to get a case going. Notification, HR and Access each react to the event on their own
 * and publish what they did; EMS's tracker maps those outcome events onto the case.
 *
 *   POST /api/resignations ─▶ case + resignationSubmitted (one transaction) ─▶ bus ─▶ participants react
 *                                                                                   │ outcome events
 *   case steps, timeline, status ◀── track-reactions-when-reported ◀────────────────┘
 *
 * A decision likewise: the case's new status and its event, in one transaction; the participants react.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import type { EventBus, EventCatalogue } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { createCaseStore, type CaseStoreOptions } from '../resignations/case-store.ts';
import type { CoordinationMode } from '../resignations/coordination-mode.ts';
import { reportedTypes } from '../resignations/record-reported.ts';
import { TRACKER, trackReactionsWhenReported } from './track-reactions-when-reported.ts';

/** EMS's subscribers in choreography only: a database that ran in it before keeps them, so orchestration unsubscribes them. */
export const CHOREOGRAPHY_SUBSCRIBERS: readonly string[] = [TRACKER];

export function choreographyMode(deps: {
  db: Kysely<EmsDb>;
  clock: Clock;
  bus: EventBus;
  stepDeadlineSeconds: number;
  catalogue: EventCatalogue;
  /** Told of each case opened (the in-process case lookup): see CaseStoreOptions.opened. */
  casesOpened?: CaseStoreOptions['opened'];
}): CoordinationMode {
  const store = createCaseStore(deps.db, deps.clock, { bus: deps.bus, stepDeadlineSeconds: deps.stepDeadlineSeconds, opened: deps.casesOpened });
  return {
    mode: 'choreography',
    store,
    starter: { mode: 'choreography', start: (intake) => store.open(intake) },
    decider: { decide: (id, input) => store.decide(id, input) },
    subscriptions: [trackReactionsWhenReported({ db: deps.db, clock: deps.clock, types: () => reportedTypes(deps.catalogue) })],
  };
}
