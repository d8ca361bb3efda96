import { sql, type Transaction } from 'kysely';
import { createPoller, type Logger, type Poller } from '@ems/platform';
import { executeRevocation, executeRevocations, timerBy, type RevokeAccessDeps } from './revoke-access.ts';
import type { AccessDB } from '../db/access.db.ts';
import { revocationFailed } from './schedule-revocation-when-exit-confirmed.ts';

/**
 * The revocation timer: scheduled revocations are rows with a due instant (revoke_at, in clock time).
 *
 *   every intervalMs ─▶ BEGIN; claim up to 500 rows: scheduled AND revoke_at <= clock.now()
 *                              FOR UPDATE SKIP LOCKED ─▶ revoke, audit, publish, set-based; COMMIT ─▶ next set …
 *
 * 10,000 revocations due at one instant (a mass exit's end of day) are 20 transactions, not 10,000.
 *
 * Several processes (replicas, or a restarted one next to a dying one) poll the same table: a row
 * claimed by one is skipped by the others and is done when its lock is released, so each revocation
 * fires once. Nothing lives in memory: a restart finds the pending rows where they were.
 *
 * A set that fails rolls back whole and its rows are fired again one per transaction, so a failing
 * revocation holds up none of the others: it rolls back whole and stays scheduled; it is retried on every poll (access must
 * go, eventually), counted on its row, and after REPORT_AFTER failures `accessRevocationFailed` is
 * published once so the case shows it.
 */

export interface RevocationTimer extends Pick<Poller, 'drained' | 'rounds'> {
  start(): void;
  /** Stops polling and waits for the round in flight, so no revocation is cut off at shutdown. */
  stop(): Promise<void>;
  /** One round: fires every revocation due now. Answers how many it fired. */
  runDue(): Promise<number>;
}

const REPORT_AFTER = 3;
/** Due revocations fired per round — one transaction, set-based (a full round is followed by another at once). */
const MAX_PER_ROUND = 500;

export function createRevocationTimer(deps: RevokeAccessDeps, options: { intervalMs: number }): RevocationTimer {
  const { db, clock, log } = deps;

  /** Locks up to `limit` due revocations not in `skip` (oldest first; rows another transaction holds are skipped). */
  function claimDue(trx: Transaction<AccessDB>, skip: ReadonlySet<string>, limit: number) {
    let q = trx
      .selectFrom('revocations')
      .selectAll()
      // A literal: a prepared statement's generic plan can then use the partial index revocations_due_idx (status = 'scheduled').
      .where('status', '=', sql.lit('scheduled'))
      .where('revoke_at', '<=', clock.now())
      .orderBy('revoke_at')
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked();
    if (skip.size > 0) q = q.where('id', 'not in', [...skip]);
    return q.execute();
  }

  /**
   * Claims up to `limit` due revocations not in `skip` and fires them all in ONE transaction, set-based
   * (executeRevocations): how many it fired, or — when that transaction failed and rolled back — the ids it
   * had claimed, for the caller to fire one at a time.
   */
  async function fireMany(skip: ReadonlySet<string>, limit: number): Promise<{ fired: number } | { claimed: string[]; error: unknown }> {
    let claimed: string[] = [];
    try {
      return await db.transaction().execute(async (trx) => {
        const rows = await claimDue(trx, skip, limit);
        if (rows.length === 0) return { fired: 0 };
        claimed = rows.map((r) => r.id);
        const done = await executeRevocations(trx, deps, rows.map((row) => ({ row, by: timerBy(row) })));
        for (const d of done) log.info({ revocationId: d.id, resignationId: d.resignation_id, employeeId: d.employee_id, revokeAt: d.revoke_at }, 'access revoked on time');
        return { fired: done.length };
      });
    } catch (error) {
      if (claimed.length === 0) throw error;
      return { claimed, error };
    }
  }

  /** Claims and fires the next due revocation not in `skip`: its id, or undefined when none is due. */
  async function fireNext(skip: ReadonlySet<string>): Promise<{ id: string; error?: unknown } | undefined> {
    let claimed: string | undefined;
    try {
      return await db.transaction().execute(async (trx) => {
        const [row] = await claimDue(trx, skip, 1);
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
    // After a set that failed as a whole: this many rows fired one at a time, so only the failing one stays behind.
    let oneByOne = 0;
    while (fired + failed.size < MAX_PER_ROUND) {
      if (oneByOne === 0) {
        const many = await fireMany(failed, MAX_PER_ROUND - fired - failed.size);
        if ('fired' in many) {
          if (many.fired === 0) break;
          fired += many.fired;
          deps.wakeConnectors?.();
          continue;
        }
        log.warn({ err: many.error, revocations: many.claimed.length }, 'a set of due revocations failed; firing them one at a time');
        oneByOne = many.claimed.length;
      }
      oneByOne--;
      const next = await fireNext(failed);
      if (!next) break;
      if (next.error === undefined) {
        fired++;
        deps.wakeConnectors?.();
      } else {
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
    drained: () => poller.drained(),
    get rounds() {
      return poller.rounds;
    },
  };
}
