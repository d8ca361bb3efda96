import type { Pool } from '@ems/platform';

/**
 * Workflows still running (PENDING or ENQUEUED) that were begun under another version of EMS's workflows
 * (`WORKFLOW_VERSION`): DBOS resumes only its own version's, so their cases wait until a process of that
 * version runs (README, Operations: "Upgrading with cases open"). Counted per version, for a warning at
 * start. Reads DBOS's own `workflow_status` table, as `casesWithoutWorkflow` does: DBOS's API lists
 * workflows by version, not those of every version but one.
 */
export async function workflowsOfOtherVersions(pool: Pool, workflowSchema: string, version: string): Promise<Array<{ version: string | null; workflows: number }>> {
  const table = `"${workflowSchema.replaceAll('"', '""')}".workflow_status`;
  const { rows } = await pool.query<{ version: string | null; workflows: number }>(
    `SELECT application_version AS version, count(*)::int AS workflows FROM ${table}
      WHERE status IN ('PENDING', 'ENQUEUED') AND application_version IS DISTINCT FROM $1
      GROUP BY application_version ORDER BY application_version`,
    [version],
  );
  return rows;
}
