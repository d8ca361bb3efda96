/**
 * Orchestration across replicas. Every EMS replica runs DBOS under its own executor id
 * (EMS_REPLICA_ID) against the shared system database, and DBOS recovers a replica's unfinished
 * workflows when *that* replica starts again. A replica that never comes back would strand them, so
 * each replica also beats a heart in `ems.replicas`; any survivor that sees a peer silent for
 * `deadAfterMs` takes that peer's lock, resumes its PENDING workflows (DBOS re-enqueues them and a live
 * replica runs them from their last completed step — steps are idempotent) and removes the peer.
 * Times here are PostgreSQL's `now()`: one clock for every replica, unaffected by EMS_CLOCK_OFFSET.
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { withTransaction, type Logger, type Pool } from '@ems/platform';

export interface ReplicaWatchdogOptions {
  pool: Pool;
  executorId: string;
  applicationVersion: string;
  log: Logger;
  heartbeatMs?: number;
  deadAfterMs?: number;
}

export function startReplicaWatchdog(o: ReplicaWatchdogOptions): { stop(): Promise<void>; handOver(): Promise<void> } {
  const heartbeatMs = o.heartbeatMs ?? 2_000;
  const deadAfterMs = o.deadAfterMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function beat(): Promise<void> {
    await o.pool.query(
      `INSERT INTO ems.replicas (executor_id, application_version) VALUES ($1, $2)
       ON CONFLICT (executor_id) DO UPDATE SET last_seen = now(), application_version = excluded.application_version`,
      [o.executorId, o.applicationVersion],
    );
    const dead = await o.pool.query<{ executor_id: string }>(
      `SELECT executor_id FROM ems.replicas WHERE executor_id <> $1 AND last_seen < now() - make_interval(secs => $2)`,
      [o.executorId, deadAfterMs / 1000],
    );
    for (const { executor_id: peer } of dead.rows) await takeOver(peer);
  }

  async function takeOver(peer: string): Promise<void> {
    await withTransaction(o.pool, async (client) => {
      const locked = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('ems.replica.' || $1)) AS ok`, [peer]);
      // Still silent? (It may have come back, or another survivor may have taken over already.)
      const still = await client.query(`SELECT 1 FROM ems.replicas WHERE executor_id = $1 AND last_seen < now() - make_interval(secs => $2) FOR UPDATE`, [peer, deadAfterMs / 1000]);
      if (locked.rows[0]?.ok && still.rowCount) {
        const pending = await DBOS.listWorkflows({ status: 'PENDING', executorId: peer, applicationVersion: o.applicationVersion });
        const ids = pending.map((w) => w.workflowID);
        if (ids.length) await DBOS.resumeWorkflows(ids);
        await client.query('DELETE FROM ems.replicas WHERE executor_id = $1', [peer]);
        o.log.warn({ peer, resumed: ids.length }, 'replica silent; its unfinished workflows resumed here');
      }
    });
  }

  const tick = () => {
    if (stopped) return;
    running = beat()
      .catch((err: unknown) => o.log.warn({ err }, 'replica heartbeat failed; will try again'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, heartbeatMs);
      });
  };
  tick();
  return {
    /** Stops beating (the workflows may still be finishing their current step). */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    /**
     * After DBOS has shut down: its workflows wait for days, so a replica that stops (a redeploy, scaling
     * down) hands them over at once — a survivor resumes them on its next beat; if this id comes back
     * first, DBOS recovers them itself.
     */
    async handOver() {
      await o.pool.query(`UPDATE ems.replicas SET last_seen = '-infinity' WHERE executor_id = $1`, [o.executorId]).catch(() => undefined);
    },
  };
}
