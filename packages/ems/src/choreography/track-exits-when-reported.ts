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
