import type { Migration } from '@ems/platform';
import { processedEventsMigration } from '@ems/eventbus';

/**
 * The `hr` schema. Invariants the database itself holds:
 * - one interview per resignation (interviews.resignation_id UNIQUE);
 * - an HR partner never has two overlapping interviews that are not cancelled (exclusion constraint);
 * - an invite email is queued at most once per (purpose, recipient) (outbox UNIQUE);
 * - a held interview has its held_at, and only a held one;
 * - a follow-up is recorded at most once per (resignation, milestone, level), and a decided case has
 *   no follow-up timer.
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
  {
    version: 3,
    name: 'held interviews',
    // held_at is set exactly when the interview is held; the notes stay in HR (never on the bus).
    sql: `
      ALTER TABLE interviews ADD COLUMN held_at timestamptz, ADD COLUMN notes text;
      ALTER TABLE interviews ADD CONSTRAINT interviews_held_at CHECK ((status = 'held') = (held_at IS NOT NULL));
    `,
  },
  {
    version: 4,
    name: 'HR partners escalate to an HR lead',
    // Until now the one HR lead was implicitly everyone's: a database with exactly one lead keeps that meaning.
    sql: `
      ALTER TABLE hr_partners ADD COLUMN lead_id text REFERENCES hr_leads(id);
      UPDATE hr_partners SET lead_id = (SELECT min(id) FROM hr_leads) WHERE (SELECT count(*) FROM hr_leads) = 1;
    `,
  },
  {
    version: 5,
    name: 'exit cases and their follow-ups (choreography)',
    sql: `
      -- What HR heard on the bus about each resignation: the facts its follow-up timer needs, and the
      -- decision. Either event may come first, so every fact of the submission is optional.
      -- follow_up_at is the timer: the clock instant the next follow-up is due (NULL: none pending);
      -- claimed_until is a lease in real (database) time, so a poller that died lets go of its case.
      CREATE TABLE exit_cases (
        resignation_id uuid PRIMARY KEY,
        employee_id text,
        employee_name text,
        hr_partner_id text,
        submitted_at timestamptz,
        correlation_id text,
        traceparent text,
        decision text CHECK (decision IN ('retained', 'withdrawn', 'exit_confirmed')),
        decided_at timestamptz,
        follow_up_at timestamptz,
        claimed_until timestamptz,
        failures integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((decision IS NULL) = (decided_at IS NULL)),
        CHECK (follow_up_at IS NULL OR (decision IS NULL AND submitted_at IS NOT NULL))
      );
      CREATE INDEX exit_cases_follow_up_due ON exit_cases (follow_up_at) WHERE follow_up_at IS NOT NULL;

      -- Each follow-up of a case, recorded once (the primary key): sent (with the email Notification
      -- stored) or skipped (nobody to send it to).
      CREATE TABLE follow_ups (
        resignation_id uuid NOT NULL REFERENCES exit_cases(resignation_id),
        milestone text NOT NULL CHECK (milestone IN ('interview_scheduled', 'interview_held', 'decision')),
        level text NOT NULL CHECK (level IN ('reminder', 'escalation')),
        due_at timestamptz NOT NULL,
        recipient text,
        email_id uuid,
        skipped text,
        recorded_at timestamptz NOT NULL,
        PRIMARY KEY (resignation_id, milestone, level),
        CHECK ((email_id IS NOT NULL AND recipient IS NOT NULL AND skipped IS NULL) OR (email_id IS NULL AND skipped IS NOT NULL))
      );
    `,
  },
  {
    version: 6,
    name: "the employee's working days and hours: an interview lies in both people's",
    // Rows already there keep Monday to Friday, 09:00–17:00 (their own zone) until the next seed.
    sql: `
      ALTER TABLE employees
        ADD COLUMN work_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}' CHECK (work_days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]),
        ADD COLUMN work_start text NOT NULL DEFAULT '09:00' CHECK (work_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        ADD COLUMN work_end text NOT NULL DEFAULT '17:00' CHECK (work_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        ADD CONSTRAINT employees_work_hours CHECK (work_start < work_end);
    `,
  },
  {
    version: 7,
    name: "HR's copy of the directory follows Identity's (personChanged, in both modes)",
    // directory_people: the last snapshot of each person HR heard of, whatever part of it HR projects — a
    // snapshot applies only over an older version, and lets a later event complete an earlier one (an
    // employee heard of before their HR partner). Rows the seed wrote have no snapshot: any version wins.
    sql: `
      CREATE TABLE directory_people (
        id text PRIMARY KEY,
        version integer NOT NULL CHECK (version >= 1),
        person jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX directory_people_hr_partner ON directory_people ((person->>'hrPartnerId'));
      CREATE INDEX directory_people_manager ON directory_people ((person->>'managerId'));
      CREATE UNIQUE INDEX departments_name_key ON departments (lower(name));
    `,
  },
  {
    version: 8,
    name: "a person's undecided exit cases, found by index",
    // Each personChanged event moves the undecided cases of the person to their HR partner of now: without this
    // index that update read every exit case HR ever heard of, once per directory event.
    sql: `
      CREATE INDEX exit_cases_employee_undecided ON exit_cases (employee_id) WHERE decision IS NULL;
    `,
  },
  {
    version: 9,
    name: 'whom each invite is for, and why one was not sent, stored with it',
    // invitee: the employee's or the HR partner's invite, as inviteEmails built it. not_sent: why an invite Notification
    // would refuse was never queued (the reason HR's answer and exit-interview-scheduled give; status stays 'failed' and
    // last_error 'not sent: ' + it, as before). Rows queued before this migration keep invitee NULL: nothing reads it for
    // them. Those refused as they were queued (failed with no attempt) are backfilled once, here: the reason after
    // last_error's 'not sent: ', the invitee from the order the version's rows were inserted in (the employee's first,
    // as inviteEmails builds them). A process older than this migration inserts neither column: a repeat of its command
    // answered by a newer process leaves such an invite out of invitesNotSent (the first answer and the event had it).
    sql: `
      ALTER TABLE outbox
        ADD COLUMN invitee text CHECK (invitee IN ('employee', 'hrPartner')),
        ADD COLUMN not_sent text,
        ADD CONSTRAINT outbox_not_sent CHECK (not_sent IS NULL OR (status = 'failed' AND invitee IS NOT NULL));
      UPDATE outbox o
         SET not_sent = substr(o.last_error, length('not sent: ') + 1),
             invitee = CASE WHEN o.id = (SELECT min(x.id) FROM outbox x WHERE x.purpose = o.purpose) THEN 'employee' ELSE 'hrPartner' END
       WHERE o.status = 'failed' AND o.attempts = 0 AND o.last_error LIKE 'not sent: %';
    `,
  },
];
