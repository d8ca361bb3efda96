/*
 * Choreography: a batch of involuntary exits opens in ONE transaction — the batch, a case per person, and
 * the involuntaryExitsStarted events (one per chunk of ≤500) on the bus's outbox. That is all EMS does:
 * Access reacts (every grant suspended → exitAccessSuspended), then Notification (→ exitNoticesSent), and
 * EMS's tracker (track-exits-when-reported.ts) records both on each case.
 */
import type { Kysely } from 'kysely';
import type { EventBus } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { openBatch, Rollback } from '../exits/exit-batch.store.ts';
import { exitsStartedEvents } from '../exits/exits.events.ts';
import type { ExitStarter } from '../exits/start-exits.ts';

export function choreographyExitStarter(db: Kysely<EmsDb>, bus: EventBus): ExitStarter {
  return {
    mode: 'choreography',
    async start(batch) {
      try {
        return await db.transaction().execute(async (trx) => {
          const opened = await openBatch(trx, batch);
          if (opened.outcome === 'conflict') throw new Rollback(opened);
          if (opened.outcome === 'created') await bus.publish(trx, exitsStartedEvents(batch));
          return opened;
        });
      } catch (err) {
        if (err instanceof Rollback) return err.outcome;
        throw err;
      }
    },
  };
}
