import { DBOS } from '@dbos-inc/dbos-sdk';
import type { Pool } from '@ems/platform';

/**
 * Earlier versions of EMS's workflows whose every participant call and case record carries the same
 * idempotency or dedupe key as this version's (only the DBOS steps they were grouped into, the workflows they
 * ran in, or the order they were called in, differ): a workflow begun under one can be replayed from its first
 * step under this one and does nothing twice. That holds for both workflows: a case's (named 'resignation', id
 * = the case's: in v5 and v6 it ran the reactions and then the decision phase; in v7 it is the decision phase,
 * which begins by running the case's reactions workflow — again, for a case taken over — and awaiting it) and
 * a mass exit's batch (`involuntary-exits`: its chunks' steps were called in waves of 4 in v5, all at once in
 * chunk order since — the same keys, `<batch>:suspend:<chunk>` and `<batch>:notices:<chunk>`, and recorders
 * idempotent by the steps' state). v4 (reverted, 4564ef3) and older are not among them: their running
 * workflows are only counted.
 */
export const ADOPTABLE_VERSIONS: readonly string[] = ['resignation-v6', 'resignation-v5'];

/**
 * A message parked while its workflow is rewound: DBOS's rewind deletes the messages its workflow has not
 * read yet, so each is marked read by a step that does not exist (-1, below the rewind's first step), then
 * put back unread once the rewind is done.
 */
const PARKED = -1;

const table = (schema: string, name: string) => `"${schema.replaceAll('"', '""')}".${name}`;

/**
 * Workflows still running (PENDING or ENQUEUED) that were begun under another version of EMS's workflows
 * (`WORKFLOW_VERSION`): DBOS resumes only its own version's, so their cases wait until a process of that
 * version runs (README, Operations: "Upgrading with cases open"). Counted per version, for a warning at
 * start. Reads DBOS's own `workflow_status` table, as `casesWithoutWorkflow` does: DBOS's API lists
 * workflows by version, not those of every version but one.
 */
export async function workflowsOfOtherVersions(pool: Pool, workflowSchema: string, version: string): Promise<Array<{ version: string | null; workflows: number }>> {
  const { rows } = await pool.query<{ version: string | null; workflows: number }>(
    `SELECT application_version AS version, count(*)::int AS workflows FROM ${table(workflowSchema, 'workflow_status')}
      WHERE status IN ('PENDING', 'ENQUEUED') AND application_version IS DISTINCT FROM $1
      GROUP BY application_version ORDER BY application_version`,
    [version],
  );
  return rows;
}

/** A takeover: the running workflows named `names` begun under one of the versions `from`, taken over by `version`. */
export interface Takeover {
  version: string;
  from: readonly string[];
  names: readonly string[];
}

/**
 * Takes over the running workflows named `names` begun under one of `from` (an upgrade across a workflow version
 * with cases open): each is rewound to its first step and re-enqueued under `version`, in place — the same
 * id, so decisions and Access's messages keep reaching it — and this process replays it. What it had done
 * is not done again (see ADOPTABLE_VERSIONS); where its case stands (its decision included) it reads from
 * the case. The messages it had not read yet (a decision sent while it waited unresumed) are kept.
 *
 * Crash-safe, and run at every start: a workflow whose adoption was cut short is still of an old version
 * (then taken over again; a CANCELLED one is one this began to take over — EMS cancels no workflow
 * otherwise), and a message still parked is put back. The processes of the old version must be stopped
 * first (README, Operations: "Upgrading with cases open"). Answers the ids taken over.
 */
export async function adoptWorkflowsOfOtherVersions(pool: Pool, workflowSchema: string, o: Takeover): Promise<string[]> {
  // Replicas started together take over one after the other: the second finds nothing left of the old version.
  const lock = await pool.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [`ems.adopt-workflows.${workflowSchema}`]);
    try {
      return await adopt(pool, workflowSchema, o);
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [`ems.adopt-workflows.${workflowSchema}`]);
    }
  } finally {
    lock.release();
  }
}

async function adopt(pool: Pool, workflowSchema: string, o: Takeover): Promise<string[]> {
  const notifications = table(workflowSchema, 'notifications');
  const { rows } = await pool.query<{ id: string; status: string }>(
    `SELECT workflow_uuid AS id, status FROM ${table(workflowSchema, 'workflow_status')}
      WHERE name = ANY($1::text[]) AND application_version = ANY($2::text[]) AND status IN ('PENDING', 'ENQUEUED', 'CANCELLED')
      ORDER BY created_at`,
    [[...o.names], [...o.from]],
  );
  for (const { id, status } of rows) {
    await pool.query(`UPDATE ${notifications} SET consumed = true, consumed_by_function_id = $2 WHERE destination_uuid = $1 AND NOT consumed`, [id, PARKED]);
    if (status !== 'CANCELLED') await DBOS.cancelWorkflow(id);
    await DBOS.rewindWorkflow(id, { startStep: 0, applicationVersion: o.version });
  }
  // Back unread, as new rows: their insert wakes a waiting workflow (DBOS's trigger), which an update would not.
  await pool.query(
    `WITH parked AS (
       DELETE FROM ${notifications} n USING ${table(workflowSchema, 'workflow_status')} w
        WHERE n.destination_uuid = w.workflow_uuid AND w.application_version = $1 AND n.consumed AND n.consumed_by_function_id = $2
       RETURNING n.message_uuid, n.destination_uuid, n.topic, n.message, n.created_at_epoch_ms, n.serialization)
     INSERT INTO ${notifications} (message_uuid, destination_uuid, topic, message, created_at_epoch_ms, serialization)
     SELECT message_uuid, destination_uuid, topic, message, created_at_epoch_ms, serialization FROM parked`,
    [o.version, PARKED],
  );
  return rows.map((r) => r.id);
}
