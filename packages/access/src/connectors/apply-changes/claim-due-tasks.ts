import { sql } from 'kysely';
import { ACCESS_SCHEMA, type AccessDb } from '../../db/access.db.ts';
import type { TaskRow } from './apply-change.ts';

/**
 * Leases due connector tasks to this process in one statement: up to `limit` in all, and of each system
 * at most what its share leaves free (`slots`). Attempts are counted; each task gets its own lease token.
 *
 *   per system with a free slot:  its first `window` due, unleased tasks (the due index, in due order)
 *                              ─▶ of those, the ones no older pending task of the same employee holds back
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
 * claim). `window: null` looks past it, as far as it takes: the caller does that when the window held
 * nothing claimable (its tasks all held back by older ones), so a held-back head never hides a due task.
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
  /** Due tasks looked at per system; null: all of them. */
  window: number | null;
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
  // The window, then the rule on its tasks only; or, without one, the due index walked with the rule checked on the way.
  const candidates =
    request.window === null
      ? sql`${tasks} c WHERE ${due} AND ${notHeldBack}`
      : sql`(SELECT c.id, c.employee_id, c.system_id, c.next_attempt_at, c.seq FROM ${tasks} c WHERE ${due} ORDER BY c.next_attempt_at, c.seq LIMIT ${request.window}) c WHERE ${notHeldBack}`;
  const picked = sql<string>`(
    SELECT t.id FROM ${tasks} t
    WHERE t.id IN (
      SELECT head.id
      FROM unnest(${systems}::text[], ${slots}::int[]) AS free(system_id, slots)
      CROSS JOIN LATERAL (SELECT c.id, c.next_attempt_at, c.seq FROM ${candidates} ORDER BY c.next_attempt_at, c.seq LIMIT free.slots) head
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
