import { sql } from 'kysely';
import { createPoller, type Logger } from '@ems/platform';
import { executeRevocation, timerBy, type RevokeAccessDeps } from './revoke-access.ts';
import { revocationFailed } from './schedule-revocation-when-exit-confirmed.ts';

/**
 * The revocation timer: scheduled revocations are rows with a due instant (revoke_at, in clock time).
 *
 *   every intervalMs ─▶ BEGIN; claim one row: scheduled AND revoke_at <= clock.now()
 *                              FOR UPDATE SKIP LOCKED ─▶ revoke, audit, publish; COMMIT ─▶ next row …
 *
 * Several processes (replicas, or a restarted one next to a dying one) poll the same table: a row
 * claimed by one is skipped by the others and is done when its lock is released, so each revocation
 * fires once. Nothing lives in memory: a restart finds the pending rows where they were.
 *
 * A failing revocation rolls back whole and stays scheduled; it is retried on every poll (access must
 * go, eventually), counted on its row, and after REPORT_AFTER failures `accessRevocationFailed` is
 * published once so the case shows it.
 */

export interface RevocationTimer {
  start(): void;
  /** Stops polling and waits for the round in flight, so no revocation is cut off at shutdown. */
  stop(): Promise<void>;
  /** One round: fires every revocation due now. Answers how many it fired. */
  runDue(): Promise<number>;
}

const REPORT_AFTER = 3;
const MAX_PER_ROUND = 100;

export function createRevocationTimer(deps: RevokeAccessDeps, options: { intervalMs: number }): RevocationTimer {
  const { db, clock, log } = deps;

  /** Claims and fires the next due revocation not in `skip`: its id, or undefined when none is due. */
  async function fireNext(skip: ReadonlySet<string>): Promise<{ id: string; error?: unknown } | undefined> {
    let claimed: string | undefined;
    try {
      return await db.transaction().execute(async (trx) => {
        let q = trx
          .selectFrom('revocations')
          .selectAll()
          .where('status', '=', 'scheduled')
          .where('revoke_at', '<=', clock.now())
          .orderBy('revoke_at')
          .orderBy('id')
          .limit(1)
          .forUpdate()
          .skipLocked();
        if (skip.size > 0) q = q.where('id', 'not in', [...skip]);
        const row = await q.executeTakeFirst();
        if (!row) return undefined;
        claimed = row.id;
        const done = await executeRevocation(trx, deps, row, timerBy(row));
        log.info({ revocationId: done.id, resignationId: done.resignation_id, employeeId: done.employee_id, revokeAt: done.revoke_at }, 'access revoked on time');
        return { id: done.id };
      });
    } catch (error) {
      if (claimed === undefined) throw error;
      return { id: claimed, error };
    }
  }

  async function runDue(): Promise<number> {
    const failed = new Set<string>();
    let fired = 0;
    while (fired + failed.size < MAX_PER_ROUND) {
      const next = await fireNext(failed);
      if (!next) break;
      if (next.error === undefined) {
        fired++;
        deps.wakeConnectors?.();
      }
      else {
        failed.add(next.id);
        await recordFailure(next.id, next.error, log);
      }
    }
    return fired;
  }

  async function recordFailure(id: string, error: unknown, logger: Logger): Promise<void> {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000) || 'unknown error';
    logger.error({ err: error, revocationId: id }, 'access revocation failed; retrying on the next poll');
    await db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('revocations')
        .set({ attempts: sql<number>`attempts + 1`, last_error: message })
        .where('id', '=', id)
        .where('status', '=', 'scheduled')
        .returningAll()
        .executeTakeFirst();
      // Exactly one failure reaches the count, whichever process saw it.
      if (row && row.attempts === REPORT_AFTER) {
        await deps.bus?.publish(trx, [
          revocationFailed({ id: `revocation:${row.id}`, correlationid: row.correlation_id, traceparent: row.traceparent ?? undefined }, row.resignation_id, message, clock.now()),
        ]);
      }
    });
  }

  // One round fires everything due (up to MAX_PER_ROUND); a full round is followed by another at once.
  const poller = createPoller({ name: 'revocation timer', log, intervalMs: options.intervalMs, batch: MAX_PER_ROUND, work: () => runDue() });
  return {
    start: () => poller.start(),
    stop: () => poller.stop(),
    runDue,
  };
}
