import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessDb } from '../../db/access.db.ts';
import type { TaskRow } from './apply-change.ts';

/**
 * Leases due connector tasks to this process in one statement: up to `limit` in all, and of each system
 * at most what its share leaves free (`slots`). Attempts are counted; each task gets its own lease token.
 *
 *   per system with a free slot:  its first `window` due, unleased tasks (the due index, in due order)
 *                              ─▶ of those, the ones no older pending task of the same employee holds back
 *                                 (none, and the window full: the due tasks past it, the rule checked on the way)
 *                              ─▶ the first `slots` of them
 *   all systems together:       the first `limit` in due order ─▶ FOR UPDATE SKIP LOCKED ─▶ leased
 *
 * A task is due when pending, its next attempt has come and no live lease holds it. The older-task rule
 * (a change reaches a system in the order it was decided: a restore never overtakes its suspend): a task
 * waits while an older one of its (employee, system) is pending — leased, backing off or due. It is
 * checked against the table, so one batch never takes two tasks of one (employee, system) either.
 *
 * Why a window: the rule is checked on the window's tasks only, never on every pending task, so the
 * statement's cost does not grow with a burst of new tasks whatever plan PostgreSQL picks — a plan made
 * before ANALYZE has seen the burst used to check the rule on all of them first (seconds to minutes per
 * claim). When a system's window is full and every task in it held back by an older one, the same
 * statement looks past it, as far as it takes, so a held-back head never hides a due task; otherwise
 * (a task to take in the window, or fewer due than the window holds) it never walks further.
 *
 * The rows are locked with SKIP LOCKED and their state checked again under the lock: a task another
 * process claimed, or finished, meanwhile is left out (the batch is then smaller).
 */
export interface ClaimRequest {
  now: Date;
  leaseMs: number;
  /** Free slots per system (systems with none are left out). */
  slots: ReadonlyMap<string, number>;
  /** Tasks in all. */
  limit: number;
  /** Due tasks looked at per system before looking past them (at least 1). */
  window: number;
}

const tasks = sql.table(`${ACCESS_SCHEMA}.connector_tasks`);

export async function claimDueTasks(db: AccessDb, request: ClaimRequest): Promise<TaskRow[]> {
  const open = [...request.slots].filter(([, n]) => n > 0);
  if (open.length === 0 || request.limit <= 0) return [];
  const { now } = request;
  const systems = open.map(([id]) => id);
  const slots = open.map(([, n]) => n);
  // Due on the system of `free` (the lateral's row), and not held back by an older pending task: SQL fragments over `c`.
  const due = sql`c.status = 'pending' AND c.next_attempt_at <= ${now} AND (c.leased_until IS NULL OR c.leased_until <= ${now}) AND c.system_id = free.system_id`;
  const notHeldBack = sql`NOT EXISTS (
    SELECT 1 FROM ${tasks} o
    WHERE o.employee_id = c.employee_id AND o.system_id = c.system_id AND o.status = 'pending' AND o.seq < c.seq)`;
  // The window: the system's first due tasks; the rule checked on those only.
  const window = sql`(SELECT c.id, c.employee_id, c.system_id, c.next_attempt_at, c.seq FROM ${tasks} c WHERE ${due} ORDER BY c.next_attempt_at, c.seq LIMIT ${request.window}) c`;
  const inWindow = sql`SELECT c.id, c.next_attempt_at, c.seq FROM ${window} WHERE ${notHeldBack}`;
  // Past it, only when every task in the window is held back and the window is full: a one-time filter per system
  // (PostgreSQL runs the walk only when it passes; a window with a task to take stops it at its first task, and an
  // idle table at an empty window). The walk: the due index, the rule checked on the way.
  const pastWindow = sql`SELECT c.id, c.next_attempt_at, c.seq FROM ${tasks} c WHERE ${due} AND ${notHeldBack}
    AND NOT EXISTS (${inWindow}) AND (SELECT count(*) FROM ${window}) = ${request.window}`;
  const picked = sql<string>`(
    SELECT t.id FROM ${tasks} t
    WHERE t.id IN (
      SELECT head.id
      FROM unnest(${systems}::text[], ${slots}::int[]) AS free(system_id, slots)
      CROSS JOIN LATERAL (
        (${inWindow} ORDER BY c.next_attempt_at, c.seq LIMIT free.slots)
        UNION ALL
        (${pastWindow} ORDER BY c.next_attempt_at, c.seq LIMIT free.slots)
      ) head
      ORDER BY head.next_attempt_at, head.seq
      LIMIT ${request.limit}
    )
    AND t.status = 'pending' AND (t.leased_until IS NULL OR t.leased_until <= ${now})
    FOR UPDATE SKIP LOCKED)`;
  const claimed = await db
    .updateTable('connector_tasks')
    .set({
      attempts: sql<number>`attempts + 1`,
      leased_until: new Date(now.getTime() + request.leaseMs),
      lease_token: sql<string>`gen_random_uuid()`,
      updated_at: now,
    })
    .where('id', 'in', picked)
    .returningAll()
    .execute();
  // In due order, as claimed (RETURNING follows no order).
  return claimed.sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime() || Number(a.seq) - Number(b.seq));
}
