import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

/**
 * The `hr` schema. Invariants the database itself holds:
 * - one interview per resignation (interviews.resignation_id UNIQUE);
 * - an HR partner never has two overlapping interviews that are not cancelled (exclusion constraint);
 * - an invite email is queued at most once per (purpose, recipient) (outbox UNIQUE).
 *
 * btree_gist lets a GiST index compare the partner id with `=` next to the time range `&&`. It goes
 * to `public` so every schema (and every service that needs it) shares one installation.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'directory, calendars, interviews, outbox',
    sql: `
      CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

      CREATE TABLE hr_leads (
        id text PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL
      );

      CREATE TABLE hr_partners (
        id text PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL,
        timezone text NOT NULL,
        work_days smallint[] NOT NULL CHECK (work_days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]),
        work_start text NOT NULL CHECK (work_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        work_end text NOT NULL CHECK (work_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (work_start < work_end)
      );

      -- Weekly meetings in the partner's local wall-clock time.
      CREATE TABLE recurring_busy (
        hr_partner_id text NOT NULL REFERENCES hr_partners(id) ON DELETE CASCADE,
        weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
        start_time text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        end_time text NOT NULL CHECK (end_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        title text NOT NULL,
        PRIMARY KEY (hr_partner_id, weekday, start_time),
        CHECK (start_time < end_time)
      );

      CREATE TABLE departments (
        id text PRIMARY KEY,
        name text NOT NULL,
        hr_partner_id text NOT NULL REFERENCES hr_partners(id)
      );

      CREATE TABLE employees (
        id text PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL UNIQUE,
        title text NOT NULL,
        department_id text NOT NULL REFERENCES departments(id),
        manager_id text REFERENCES employees(id) DEFERRABLE INITIALLY DEFERRED,
        hr_partner_id text NOT NULL REFERENCES hr_partners(id),
        timezone text NOT NULL,
        location text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX employees_department ON employees (department_id, id);

      CREATE TABLE interviews (
        id uuid PRIMARY KEY,
        resignation_id uuid NOT NULL,
        employee_id text NOT NULL REFERENCES employees(id),
        hr_partner_id text NOT NULL REFERENCES hr_partners(id),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        timezone text NOT NULL,
        last_working_day date NOT NULL,
        status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled', 'held')),
        sequence integer NOT NULL DEFAULT 0 CHECK (sequence >= 0),
        uid text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT interviews_one_per_resignation UNIQUE (resignation_id),
        CONSTRAINT interviews_positive_length CHECK (ends_at > starts_at),
        CONSTRAINT interviews_no_overlap EXCLUDE USING gist (hr_partner_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
          WHERE (status <> 'cancelled')
      );
      CREATE INDEX interviews_partner ON interviews (hr_partner_id, starts_at);
      CREATE INDEX interviews_created ON interviews (created_at, id);

      -- Idempotency-Key of a mutating request → the interview it acted on.
      CREATE TABLE idempotency_keys (
        key text PRIMARY KEY,
        operation text NOT NULL,
        fingerprint text NOT NULL,
        interview_id uuid NOT NULL REFERENCES interviews(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- Invite emails to hand to Notification, written in the same transaction as the booking so a
      -- booking is never without its invites, even when Notification is down.
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        interview_id uuid NOT NULL REFERENCES interviews(id),
        purpose text NOT NULL,
        recipient text NOT NULL,
        request jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        UNIQUE (purpose, recipient)
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
    `,
  },
  // Choreography: the events each HR subscriber has handled, recorded with the effect (idempotent consumers).
  processedEventsMigration(2),
];
