import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'resignation cases, steps and timeline',
    sql: `
      CREATE TABLE resignations (
        id uuid PRIMARY KEY,
        employee_id text NOT NULL,
        employee_name text NOT NULL,
        employee_email text NOT NULL,
        employee_timezone text NOT NULL,
        manager_id text,
        manager_name text,
        manager_email text,
        hr_partner_id text NOT NULL,
        last_working_day date NOT NULL,
        reason text,
        status text NOT NULL CHECK (status IN ('in_progress', 'awaiting_decision', 'action_required')),
        mode text NOT NULL CHECK (mode IN ('orchestration', 'choreography')),
        correlation_id text NOT NULL,
        idempotency_key text UNIQUE,
        submitted_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        closed_at timestamptz
      );
      -- An employee has at most one open resignation; this index is the arbiter under concurrency.
      CREATE UNIQUE INDEX resignations_one_open_per_employee ON resignations (employee_id) WHERE closed_at IS NULL;
      CREATE INDEX resignations_status ON resignations (status, submitted_at DESC);
      CREATE INDEX resignations_submitted ON resignations (submitted_at DESC, id);

      CREATE TABLE steps (
        resignation_id uuid NOT NULL REFERENCES resignations (id),
        name text NOT NULL CHECK (name IN ('notifyManager', 'scheduleInterview', 'blockAccess')),
        status text NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
        at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        result jsonb,
        PRIMARY KEY (resignation_id, name)
      );

      CREATE TABLE timeline (
        id bigserial PRIMARY KEY,
        resignation_id uuid NOT NULL REFERENCES resignations (id),
        at timestamptz NOT NULL,
        service text NOT NULL,
        type text NOT NULL,
        summary text NOT NULL,
        correlation_id text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb,
        -- Writers are retried (workflow steps are at-least-once); the key makes each entry happen once.
        dedupe_key text NOT NULL,
        UNIQUE (resignation_id, dedupe_key)
      );
      CREATE INDEX timeline_by_case ON timeline (resignation_id, at, id);
    `,
  },
];

migrations.push({
  version: 2,
  name: 'installation metadata (seeded, …)',
  sql: `CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());`,
});

migrations.push({
  version: 3,
  name: 'late steps with deadlines; choreography tracking',
  sql: `
    ALTER TABLE steps DROP CONSTRAINT steps_status_check;
    ALTER TABLE steps ADD CONSTRAINT steps_status_check CHECK (status IN ('pending', 'late', 'done', 'failed'));
    ALTER TABLE steps ADD COLUMN expected_by timestamptz;
    CREATE INDEX steps_overdue ON steps (expected_by) WHERE status = 'pending';
    CREATE INDEX steps_stuck ON steps (resignation_id) WHERE status IN ('late', 'failed');
  `,
});

migrations.push(processedEventsMigration(4));

migrations.push({
  version: 5,
  name: "EMS's own roster: who may resign, their manager and HR partner",
  sql: `
    CREATE TABLE employees (
      id text PRIMARY KEY,
      name text NOT NULL,
      email text NOT NULL,
      timezone text NOT NULL,
      manager_id text REFERENCES employees (id) DEFERRABLE INITIALLY DEFERRED,
      hr_partner_id text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `,
});

migrations.push({
  version: 6,
  name: 'idempotency fingerprint and trace context of the submission',
  sql: `
    ALTER TABLE resignations ADD COLUMN request_fingerprint text;
    ALTER TABLE resignations ADD COLUMN traceparent text;
  `,
});

migrations.push({
  version: 7,
  name: 'decision lifecycle: decision, withdrawal, exit, and the steps they set off',
  sql: `
    ALTER TABLE resignations DROP CONSTRAINT resignations_status_check;
    ALTER TABLE resignations ADD CONSTRAINT resignations_status_check
      CHECK (status IN ('in_progress', 'awaiting_decision', 'action_required', 'retained', 'withdrawn', 'exit_confirmed', 'exited'));
    ALTER TABLE resignations ADD COLUMN decision text CHECK (decision IN ('retained', 'withdrawn', 'exit_confirmed'));
    ALTER TABLE resignations ADD COLUMN decided_at timestamptz;
    ALTER TABLE resignations ADD COLUMN decision_note text;
    ALTER TABLE resignations ADD COLUMN decided_last_working_day date;
    ALTER TABLE resignations ADD COLUMN revoke_at timestamptz;
    ALTER TABLE resignations ADD COLUMN decision_revision integer NOT NULL DEFAULT 0;
    ALTER TABLE resignations ADD CONSTRAINT resignations_decision_complete
      CHECK ((decision IS NULL) = (decided_at IS NULL) AND (decision = 'exit_confirmed') = (revoke_at IS NOT NULL AND decided_last_working_day IS NOT NULL));
    ALTER TABLE steps DROP CONSTRAINT steps_name_check;
    ALTER TABLE steps ADD CONSTRAINT steps_name_check
      CHECK (name IN ('notifyManager', 'scheduleInterview', 'blockAccess', 'announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'));
  `,
});

migrations.push({
  version: 8,
  name: 'orchestration replicas: heartbeats, so a survivor resumes the workflows of a dead one',
  sql: `
    CREATE TABLE replicas (
      executor_id text PRIMARY KEY,
      application_version text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      last_seen timestamptz NOT NULL DEFAULT now()
    );
  `,
});

migrations.push({
  version: 9,
  name: 'who made a change: the actor of a timeline entry (person or service, role, client)',
  sql: `ALTER TABLE timeline ADD COLUMN actor jsonb;`,
});

migrations.push({
  version: 10,
  name: 'who decided: the actor of the decision in force (the reactions it sets off act on their behalf)',
  sql: `ALTER TABLE resignations ADD COLUMN decided_by jsonb;`,
});

migrations.push({
  version: 11,
  name: "the employee's working days: a last working day must be one of them",
  // ISO weekdays (1 = Monday … 7 = Sunday). Rows already there keep Monday to Friday until the next seed.
  sql: `
    ALTER TABLE employees ADD COLUMN work_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}'
      CHECK (work_days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]);
  `,
});

migrations.push({
  version: 12,
  name: 'live updates (a NOTIFY per case change, in its transaction); departments and reason categories for the exit report',
  sql: `
    -- Every change of a case, committed, is announced on one channel: each EMS process LISTENs on one
    -- connection and tells the open /api/updates streams allowed to read the case (updates/case-changes.listener.ts).
    CREATE FUNCTION notify_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('ems_case_changed', json_build_object('id', NEW.id, 'employeeId', NEW.employee_id, 'status', NEW.status, 'updatedAt', NEW.updated_at)::text);
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER resignations_inserted AFTER INSERT ON resignations FOR EACH ROW EXECUTE FUNCTION notify_case_changed();
    CREATE TRIGGER resignations_updated AFTER UPDATE ON resignations FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION notify_case_changed();

    -- The department of each person, from the HR export; a case keeps the one its employee was in when they resigned.
    ALTER TABLE employees ADD COLUMN department text;
    ALTER TABLE resignations ADD COLUMN department text;
    -- Why, in one word of a fixed list (the free-text reason stays as it is); null for cases submitted without one.
    ALTER TABLE resignations ADD COLUMN reason_category text
      CHECK (reason_category IN ('career', 'compensation', 'management', 'relocation', 'personal', 'other'));
    CREATE INDEX resignations_submitted_at ON resignations (submitted_at);
  `,
});

migrations.push({
  version: 13,
  name: 'live updates: NOTIFY only while some process has a stream open (a NOTIFY serialises commits)',
  // Measured with pgbench (4 clients, single-row updates): a NOTIFY in every transaction cut the commit rate to
  // about a quarter; the check below costs next to nothing while nobody watches (the benchmark, a quiet night).
  sql: `
    CREATE TABLE live_listeners (
      process_id text PRIMARY KEY,
      expires_at timestamptz NOT NULL
    );
    CREATE OR REPLACE FUNCTION notify_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM ems.live_listeners WHERE expires_at > now()) THEN
        PERFORM pg_notify('ems_case_changed', json_build_object('id', NEW.id, 'employeeId', NEW.employee_id, 'status', NEW.status, 'updatedAt', NEW.updated_at)::text);
      END IF;
      RETURN NULL;
    END
    $$;
  `,
});

migrations.push({
  version: 14,
  name: 'connected systems and drift on the case; the roster follows the directory (versions); who is responsible now',
  sql: `
    -- One row per change Access asked a connected system to make for the case (its connector task): the
    -- latest word on it (done, retrying, failed). Events may arrive out of order: the writer never goes back.
    CREATE TABLE case_systems (
      resignation_id uuid NOT NULL REFERENCES resignations (id),
      change_id uuid NOT NULL,
      system_id text NOT NULL,
      connector text NOT NULL,
      action text NOT NULL CHECK (action IN ('suspend', 'restore', 'revoke')),
      status text NOT NULL CHECK (status IN ('done', 'retrying', 'failed')),
      entitlements text[] NOT NULL DEFAULT '{}',
      attempts integer NOT NULL,
      verification text,
      error text,
      retry_at timestamptz,
      at timestamptz NOT NULL,
      PRIMARY KEY (resignation_id, change_id)
    );
    -- What a reconciliation found contradicting the case's hold or revocation.
    CREATE TABLE case_drifts (
      drift_id uuid PRIMARY KEY,
      resignation_id uuid NOT NULL REFERENCES resignations (id),
      system_id text NOT NULL,
      kind text NOT NULL,
      entitlement text,
      detail text NOT NULL,
      detected_at timestamptz NOT NULL
    );
    CREATE INDEX case_drifts_by_case ON case_drifts (resignation_id, detected_at);

    -- The directory's version of each person (0: seeded, never changed by the directory): a snapshot
    -- applies only over an older one. People arrive in any order, so a manager may come after their reports.
    ALTER TABLE employees ADD COLUMN version integer NOT NULL DEFAULT 0;
    ALTER TABLE employees ADD COLUMN active boolean NOT NULL DEFAULT true;
    ALTER TABLE employees ALTER COLUMN hr_partner_id DROP NOT NULL;
    ALTER TABLE employees DROP CONSTRAINT employees_manager_id_fkey;
    -- Who is responsible for an open case now, when the directory changed the manager or HR partner
    -- after submission (null: those of the submission).
    ALTER TABLE resignations ADD COLUMN responsible jsonb;
  `,
});

migrations.push({
  version: 15,
  name: 'involuntary and mass exits: the kind of a case, its batch, and the batches',
  sql: `
    -- An involuntary exit (HR ends the employment) is a case like a resignation, decided from the start.
    ALTER TABLE resignations ADD COLUMN kind text NOT NULL DEFAULT 'resignation' CHECK (kind IN ('resignation', 'involuntary'));
    ALTER TABLE resignations ADD COLUMN batch_id uuid;
    -- Progress of a batch counts its cases' steps: one index range per batch.
    CREATE INDEX resignations_by_batch ON resignations (batch_id, employee_id) WHERE batch_id IS NOT NULL;

    -- One row per involuntary exit batch (a batch of one: an involuntary exit; of many: a mass exit).
    CREATE TABLE exit_batches (
      id uuid PRIMARY KEY,
      mode text NOT NULL CHECK (mode IN ('orchestration', 'choreography')),
      reason text NOT NULL CHECK (reason IN ('misconduct', 'redundancy', 'performance', 'end_of_contract', 'other')),
      revoke_at timestamptz,
      note text,
      total integer NOT NULL,
      chunks integer NOT NULL,
      idempotency_key text NOT NULL UNIQUE,
      request_fingerprint text NOT NULL,
      created_by jsonb,
      traceparent text,
      created_at timestamptz NOT NULL,
      -- Set by the first reader (or recorder) that finds every case's suspension and notices settled.
      settled_at timestamptz
    );
  `,
});

migrations.push({
  version: 16,
  name: "exit batches: the chunks found settled, so settling a batch never re-reads all of it",
  sql: `
    -- Each chunk is added once, by the recorder that finds its people's suspension and notices settled; the
    -- batch is settled when every chunk is here (exits/record-exit-outcomes.ts).
    ALTER TABLE exit_batches ADD COLUMN chunks_settled integer[] NOT NULL DEFAULT '{}';
  `,
});

migrations.push({
  version: 17,
  name: 'one name per action: the step blockAccess is suspendAccess (as its command, handlers and folder)',
  sql: `
    -- The step's rows and the timeline keys built from its name ('<step>.done', '<step>.attempt.<n>',
    -- '<step>.failed', '<step>.late') follow the new name, so a step retried after the upgrade still
    -- finds its own entries. A process of the previous version writing 'blockAccess' is refused by the
    -- constraint: migrate before serving.
    ALTER TABLE steps DROP CONSTRAINT steps_name_check;
    UPDATE steps SET name = 'suspendAccess' WHERE name = 'blockAccess';
    UPDATE timeline SET dedupe_key = 'suspendAccess' || substr(dedupe_key, length('blockAccess') + 1)
      WHERE dedupe_key LIKE 'blockAccess.%';
    ALTER TABLE steps ADD CONSTRAINT steps_name_check
      CHECK (name IN ('notifyManager', 'scheduleInterview', 'suspendAccess', 'announceDecision', 'restoreAccess', 'cancelInterview', 'revokeAccess'));
  `,
});

migrations.push({
  version: 18,
  name: "orchestration: a resignation's decision workflow marked started, so the sweeper's due scan reads only the cases it still has to start",
  sql: `
    -- Set by EMS's sweeper once it has started the case's decision workflow, or found a workflow with the case's
    -- id already (orchestration/cases-without-workflow.ts): its due scan then reads this partial index, which
    -- holds only the waiting cases it has not marked — not every case waiting, each probed in DBOS's table every
    -- round, as before. NULL for choreography, and until the case's first follow-up can be due.
    ALTER TABLE resignations ADD COLUMN decision_workflow_started_at timestamptz;
    CREATE INDEX resignations_decision_unstarted ON resignations (submitted_at)
      WHERE mode = 'orchestration' AND kind = 'resignation' AND closed_at IS NULL AND decision_workflow_started_at IS NULL
        AND status IN ('awaiting_decision', 'action_required');
    -- The mark is bookkeeping, not a change of the case: no live update for it (an update that sets it sets
    -- nothing else).
    DROP TRIGGER resignations_updated ON resignations;
    CREATE TRIGGER resignations_updated AFTER UPDATE ON resignations FOR EACH ROW
      WHEN (OLD.* IS DISTINCT FROM NEW.* AND OLD.decision_workflow_started_at IS NOT DISTINCT FROM NEW.decision_workflow_started_at)
      EXECUTE FUNCTION notify_case_changed();
  `,
});
