/*
 * Choreography: what Access and Notification did for a chunk of involuntary exits, mapped onto each case
 * of the chunk — set-based, once per event (its id recorded in the same transaction).
 *
 *   EMS ──── involuntaryExitsStarted (per chunk) ──▶ Access: every grant suspended, revocation scheduled
 *   Access ─ exitAccessSuspended ─┬──────────────▶ Notification: manager and employee told
 *                                 └─▶ track-exits-when-reported ──▶ suspendAccess done/failed, timeline
 *   Notification ─ exitNoticesSent ─▶ track-exits-when-reported ──▶ announceDecision done/failed, timeline
 *   Access ─ accessRevoked (per case, at revokeAt) ─▶ the case tracker (track-reactions-when-reported): exited
 */
import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import { EventTypes, ExitAccessSuspended, ExitNoticesSent } from '@ems/contracts/events';
import { firstDelivery, type Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { recordAccessSuspended, recordNoticesSent } from '../exits/record-exit-outcomes.ts';

export const TRACK_EXITS_SUBSCRIBER = 'ems.track-exits-when-reported';
export const EXIT_OUTCOME_TYPES: readonly string[] = [EventTypes.exitAccessSuspended, EventTypes.exitNoticesSent];

export function trackExitsWhenReported(deps: { db: Kysely<EmsDb>; clock: Clock }): Subscription {
  return {
    name: TRACK_EXITS_SUBSCRIBER,
    types: EXIT_OUTCOME_TYPES,
    // One chunk at a time: a mass exit's outcomes are set-based statements of up to 500 cases each, and on a
    // small machine they compete for PostgreSQL's CPU with Access's chunks (critical lane, 4 at once) — which
    // are what a mass exit waits for first. Measured (bench:mass-exit, 10,000 people, choreography, one run
    // each): critical access suspended at 10.3 s with this and Notification's exit reaction at the default
    // of 4, at 7.3 s with both at 1; every case settled at 12.9 s → 14.4 s.
    concurrency: 1,
    async handle(event) {
      await deps.db.transaction().execute(async (trx) => {
        if (!(await firstDelivery(trx, 'ems', TRACK_EXITS_SUBSCRIBER, event.id))) return;
        const at = new Date(event.time);
        if (event.type === EventTypes.exitAccessSuspended) await recordAccessSuspended(trx, ExitAccessSuspended.parse(event.data), at, event.id);
        else await recordNoticesSent(trx, ExitNoticesSent.parse(event.data), at, event.id);
      });
    },
  };
}
