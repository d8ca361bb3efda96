import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

/**
 * The `assets` schema. Invariants the database holds:
 * - one recovery task per resignation (recovery_tasks.resignation_id UNIQUE), whatever the redeliveries;
 * - a task is done exactly when it has a completion time.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'recovery tasks',
    sql: `
      CREATE TABLE recovery_tasks (
        id uuid PRIMARY KEY,
        resignation_id uuid NOT NULL,
        employee_id text NOT NULL,
        items text[] NOT NULL CHECK (cardinality(items) > 0),
        due_date date NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
        created_at timestamptz NOT NULL,
        completed_at timestamptz,
        CONSTRAINT recovery_tasks_resignation_id_key UNIQUE (resignation_id),
        CONSTRAINT recovery_tasks_completed_at_matches_status CHECK ((status = 'done') = (completed_at IS NOT NULL))
      );
      CREATE INDEX recovery_tasks_employee_idx ON recovery_tasks (employee_id, created_at);
      CREATE INDEX recovery_tasks_open_due_idx ON recovery_tasks (due_date) WHERE status = 'open';
    `,
  },
  processedEventsMigration(2),
];
