import pg from 'pg';
import { distribution, type Distribution } from './stats.ts';

/**
 * Where a case's wait for its hold goes, stage by stage, from the times the database kept (the same host
 * clock as the load generator's): read after the phase, so measuring adds nothing to the cases.
 *
 *   sent ─▶ reactions workflow created ─▶ hold written ─▶ recorded on the case
 *          (in the POST: DBOS's row)       (Access's clock     (the step's time on
 *                                           at its use case)    the case)
 *
 * (Until resignation-v7 the reactions were a DBOS step, whose start was a stage of its own; they are plain calls
 * of the workflow now, with no time of their own on record: `stepStarted` is null.)
 *
 * Choreography has no workflow. On the PostgreSQL bus its stages are the bus job's own times:
 *
 *   sent ─▶ job created ─▶ job started ─▶ hold written ─▶ recorded on the case
 *          (the POST's      (fetched by     (Access, in the
 *           transaction)     the subscriber) group commit)
 *
 * On NATS its first stages are the outbox row of the case's first event (resignation submitted):
 *
 *   sent ─▶ outbox row written ─▶ relay picked it ─▶ hold written ─▶ recorded on the case
 *          (the POST's            (the relay batch's   (JetStream, Access's pull
 *           transaction)           transaction start)   and its group commit)
 */
export interface HoldStages {
  /** Cases with a hold and every time below. */
  cases: number;
  /** Orchestration: POST sent → the workflow's row written (DBOS's created_at). */
  workflowCreated: Distribution | null;
  /** Orchestration until resignation-v7: the workflow row → its reactions step started (DBOS's started_at_epoch_ms); null since. */
  stepStarted: Distribution | null;
  /** Choreography on the PostgreSQL bus: POST sent → Access's job for the event created (the POST's transaction). */
  jobCreated?: Distribution | null;
  /** Choreography on the PostgreSQL bus: the job created → fetched by Access's subscriber (its started_on). */
  jobStarted?: Distribution | null;
  /** Choreography on NATS: POST sent → the event's outbox row written (the POST's transaction). */
  outboxWritten?: Distribution | null;
  /** Choreography on NATS: the outbox row → the relay batch that sent it began (its sent_at, the batch transaction's now()). */
  relayed?: Distribution | null;
  /**
   * Orchestration: the reactions workflow created → the hold written by Access (its created_at). Choreography: the job
   * started → the hold on the PostgreSQL bus; the relay's batch → the hold on NATS.
   */
  holdWritten: Distribution;
  /** The hold written → the case records the step done. */
  recorded: Distribution;
}

export async function holdStages(
  url: string,
  mode: 'orchestration' | 'choreography',
  cases: ReadonlyArray<{ id: string; sentAt: number; recordedAt: number }>,
  workflowSchema: string,
  /**
   * Choreography: on the PostgreSQL bus its schema and Access's subscriber (the job queue's name); on NATS
   * the outbox's schema and the bus's prefix.
   */
  bus?: { kind: 'jobs'; schema: string; queue: string } | { kind: 'outbox'; schema: string; prefix: string },
): Promise<HoldStages> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const ids = cases.map((c) => c.id);
    const holds = await client.query<{ id: string; at: string }>(
      `SELECT resignation_id::text AS id, (extract(epoch FROM created_at) * 1000)::bigint::text AS at FROM access.holds WHERE resignation_id = ANY($1::uuid[])`,
      [ids],
    );
    const holdAt = new Map(holds.rows.map((r) => [r.id, Number(r.at)]));
    let workflow = new Map<string, { created: number }>();
    if (mode === 'orchestration') {
      const s = `"${workflowSchema.replaceAll('"', '""')}"`;
      // The case's reactions workflow (its id: the case's with REACTIONS_ID_SUFFIX).
      const wf = await client.query<{ id: string; created: string }>(
        `SELECT split_part(w.workflow_uuid, ':', 1) AS id, w.created_at::text AS created
           FROM ${s}.workflow_status w WHERE w.workflow_uuid = ANY(SELECT unnest($1::text[]) || ':reactions')`,
        [ids],
      );
      workflow = new Map(wf.rows.map((r) => [r.id, { created: Number(r.created) }]));
    }
    let jobs = new Map<string, { created: number; started: number }>();
    if (mode === 'choreography' && bus?.kind === 'jobs') {
      const s = `"${bus.schema.replaceAll('"', '""')}"`;
      // One job per case's event on Access's queue (a retry refetches the same row: started_on is then its last fetch).
      const job = await client.query<{ id: string; created: string; started: string }>(
        `SELECT DISTINCT ON (data->'event'->>'subject') data->'event'->>'subject' AS id,
                (extract(epoch FROM created_on) * 1000)::bigint::text AS created, (extract(epoch FROM started_on) * 1000)::bigint::text AS started
           FROM ${s}.job WHERE name = $1 AND started_on IS NOT NULL AND data->'event'->>'subject' = ANY($2::text[])
          ORDER BY data->'event'->>'subject', created_on`,
        [bus.queue, ids],
      );
      jobs = new Map(job.rows.map((r) => [r.id, { created: Number(r.created), started: Number(r.started) }]));
    }
    if (mode === 'choreography' && bus?.kind === 'outbox') {
      const s = `"${bus.schema.replaceAll('"', '""')}"`;
      // A case's first event (by the outbox's order) is its resignation submitted, written by the POST.
      const row = await client.query<{ id: string; created: string; started: string }>(
        `SELECT DISTINCT ON (payload::jsonb->>'subject') payload::jsonb->>'subject' AS id,
                (extract(epoch FROM created_at) * 1000)::bigint::text AS created, (extract(epoch FROM sent_at) * 1000)::bigint::text AS started
           FROM ${s}.nats_outbox WHERE prefix = $1 AND sent_at IS NOT NULL AND payload::jsonb->>'subject' = ANY($2::text[])
          ORDER BY payload::jsonb->>'subject', seq`,
        [bus.prefix, ids],
      );
      jobs = new Map(row.rows.map((r) => [r.id, { created: Number(r.created), started: Number(r.started) }]));
    }
    const byJob = jobs.size > 0;
    const outbox = bus?.kind === 'outbox';
    const rows = cases.flatMap((c) => {
      const hold = holdAt.get(c.id);
      const wf = workflow.get(c.id);
      const job = jobs.get(c.id);
      if (hold === undefined || !Number.isFinite(c.recordedAt) || (mode === 'orchestration' && !wf) || (byJob && !job)) return [];
      return [{ c, hold, wf, job }];
    });
    // The bus's two first stages: a job created and started (pg-boss), or an outbox row written and relayed (NATS).
    const created = byJob ? distribution(rows.map((r) => r.job!.created - r.c.sentAt)) : null;
    const started = byJob ? distribution(rows.map((r) => r.job!.started - r.job!.created)) : null;
    return {
      cases: rows.length,
      workflowCreated: mode === 'orchestration' ? distribution(rows.map((r) => r.wf!.created - r.c.sentAt)) : null,
      stepStarted: null,
      jobCreated: outbox ? null : created,
      jobStarted: outbox ? null : started,
      outboxWritten: outbox ? created : null,
      relayed: outbox ? started : null,
      holdWritten: distribution(rows.map((r) => r.hold - (mode === 'orchestration' ? r.wf!.created : byJob ? r.job!.started : r.c.sentAt))),
      recorded: distribution(rows.map((r) => r.c.recordedAt - r.hold)),
    };
  } finally {
    await client.end();
  }
}

/**
 * The stages before "hold written", named for the mode and bus they were measured on (for the log line
 * and the report's row); empty when none was measured (NATS in reports from before the outbox stages).
 */
export function firstStages(st: HoldStages): Array<[name: string, ms: Distribution | null]> {
  if (st.workflowCreated !== null) return [['sent→workflow', st.workflowCreated], ['→step started', st.stepStarted]];
  if (st.jobCreated) return [['sent→job created', st.jobCreated], ['→job started', st.jobStarted ?? null]];
  if (st.outboxWritten) return [['sent→outbox row', st.outboxWritten], ['→relay picked it', st.relayed ?? null]];
  return [];
}
