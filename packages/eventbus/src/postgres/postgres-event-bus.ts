import pg from 'pg';
import { PgBoss, type JobResult, type JobWithMetadata, type QueueOptions, type QueueResult } from 'pg-boss';
import { describeError, isPermanent, migrate, PermanentError, quoteIdent, withTransaction, type Logger, type Pool } from '@ems/platform';
import { validateEvent } from '../envelope.ts';
import type { CloudEvent, EventBus, EventBusTestHooks, EventCatalogue, Subscription, TransactionLike } from '../port.ts';
import { clientDatabase, poolDatabase, transactionDatabase } from './pg-boss-database.ts';
import { createBusSchema, keepJobStatisticsFresh, lockTopology } from '../install.ts';
import { createDeadLetterTable, deadLetterMigrations, renameDeadLetters } from './dead-letters.ts';
import { createWakeups, retryWindow, type Wakeups } from './wakeups.ts';
import { publishStatement, type PublishResult } from './publish-statement.ts';

/*
 * The PostgreSQL adapter of the EventBus port, on pg-boss 12.
 *
 *   publish(trx, [e]) ── validate ──► one statement in trx: routing + INSERT a job per subscribed queue; NOTIFY at commit
 *                                            │
 *            ┌───────────────────────────────┴──────────────────────────┐
 *   queue "<subscriber>"  (retries with exponential backoff)   queue "<other subscriber>" …
 *            │ worker: validate ─ invalid ─► 'deadletter' (at once, with the reason)
 *            │         handle ── throws ──► 'failed' → retried … after maxAttempts:
 *            │                   └─ a permanent error (platform's classification) ─► 'deadletter' at once
 *            ▼
 *   queue "<subscriber>.dead-letters" ── worker ──► bus.dead_letters row (reason, attempts, time)
 *                                                    └─► subscription.onDeadLetter(event, reason), once
 *   deadLetters.replay(id) ── in one tx: mark replayed + send a fresh job to "<subscriber>"
 *
 * A subscriber on the critical lane (Subscription.lane) has its queue fetched and settled by a second
 * pg-boss instance on a small pool of its own: its fetches never wait for a connection behind the other
 * queues' fetches and settles on the bus's pool. The main instance still routes its NOTIFYs and runs
 * the maintenance of every queue; dead letters of critical subscribers stay on the shared pool.
 */

export interface PostgresEventBusOptions {
  pool: Pool;
  log: Logger;
  /** Read at every validation, so event types added to it after creation (extensions) count. */
  catalogue: EventCatalogue;
  /** Schema of pg-boss's tables and the dead-letter table. Default 'bus'. */
  schema?: string;
  /**
   * Default 5 attempts, 500 ms. pg-boss delays retries in whole seconds with jitter: the wait before
   * retry n is between b·2^(n-1) and b·2^n, where b is backoffMs rounded up to a second.
   */
  defaultRetry?: { maxAttempts: number; backoffMs: number };
  /**
   * How often idle workers poll when LISTEN/NOTIFY is unavailable (the listener could not be
   * established). Default 1, at least 0.5.
   */
  pollingIntervalSeconds?: number;
  /**
   * How often the process looks for work nothing woke its workers for — retries failed in another
   * process, handlers that timed out, notifications lost while the listener reconnected — in one
   * statement for all its queues, waking a worker of each queue that has some. New events wake a
   * worker at once (NOTIFY), and retries and dead letters of this process wake one when due (see
   * wakeups.ts). Default 5, at least pollingIntervalSeconds.
   */
  idlePollingIntervalSeconds?: number;
  /** Default number of handlers of one subscriber running at once in this process. Default 4. */
  concurrency?: number;
  /** A handler still running after this long counts as a failed attempt. Default 60. */
  handlerTimeoutSeconds?: number;
  /**
   * This process is the only one working its subscribers' queues (no replicas of it): a delivery still
   * `active` when it starts was held by its predecessor, killed mid-handler — retried at once rather
   * than after handlerTimeoutSeconds (it was: ~70 s without the reaction after a kill -9). Handlers are
   * idempotent, so a delivery whose handler had committed changes nothing the second time.
   */
  resumeHeldJobs?: boolean;
  /**
   * Connections of the critical lane's own pool (Subscription.lane 'critical'), beside the bus's pool:
   * opened when a critical subscriber starts (as its workers need them), closed by stop(). Default 8:
   * each worker of a critical subscriber fetches and settles its jobs on this pool, and with 2 the
   * fetches of a 32-wide subscriber queued for a connection (burst of 2,000: hold p50 2.1–3.1 s with 2,
   * 0.9 s with 8; README, "the lean path, sixth round").
   */
  criticalConnections?: number;
  /** How long stop() waits for handlers in flight before failing them (they are retried). Default 30 000. */
  stopTimeoutMs?: number;
  /**
   * Default true: start() installs or migrates the bus's tables (pg-boss's and the dead letters), which
   * takes the right to create them. False: they were installed by the admin (installEventBus, run by
   * `ems migrate`), and this bus runs as a role that only reads and writes them — pg-boss neither
   * migrates nor rebuilds indexes (both need the tables' owner).
   */
  install?: boolean;
}

/** What a job carries: the message exactly as published (or injected), validated on receipt. */
interface JobData {
  event: unknown;
}

const DEAD_LETTER_SUFFIX = '.dead-letters';
const SUBSCRIBER_NAME = /^[a-z0-9][a-z0-9._-]{0,150}$/i;
const MAX_REASON = 1000;
/** The longest a subscription may linger (Subscription.linger). */
const MAX_LINGER_MS = 1000;

export function createPostgresEventBus(options: PostgresEventBusOptions): EventBus & EventBusTestHooks {
  const { pool, log, catalogue } = options;
  const schema = options.schema ?? 'bus';
  const defaultRetry = { maxAttempts: 5, backoffMs: 500, ...options.defaultRetry };
  const pollingIntervalSeconds = Math.max(0.5, options.pollingIntervalSeconds ?? 1);
  const idlePollingIntervalSeconds = Math.max(pollingIntervalSeconds, options.idlePollingIntervalSeconds ?? 5);
  /** With LISTEN/NOTIFY up, workers are woken (wakeups.ts, the sweep): their own polling is a last resort. */
  const workerPollingIntervalSeconds = Math.max(idlePollingIntervalSeconds, 60);
  const defaultConcurrency = options.concurrency ?? 4;
  const handlerTimeoutSeconds = options.handlerTimeoutSeconds ?? 60;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const install = options.install ?? true;
  const criticalConnections = Math.max(1, Math.floor(options.criticalConnections ?? 8));

  /** Queue name → who wakes its workers, for the queues this process works (and their dead letters). */
  const wakeups = new Map<string, Wakeups>();
  const routeNotification = (queue: string) => {
    const w = wakeups.get(queue);
    w?.notified();
    return w !== undefined;
  };

  const boss = new PgBoss({
    db: poolDatabase(pool, routeNotification),
    schema,
    useListenNotify: true,
    schedule: false,
    instanceName: 'ems-bus',
    // Without the right to change its tables: no migration and no index rebuild (both DDL); bloat is still reported.
    ...(install ? {} : { migrate: false, reindex: false }),
    // The flow resolver unblocks jobs that depend on others (pg-boss flows); the bus queues none, and its
    // pass is two statements (one a write) every 5 s by default, measured among the idle commits.
    flowIntervalSeconds: 3600,
  });
  // An 'error' event without a listener would throw and take the process down.
  boss.on('error', (err) => log.error({ err }, 'event bus: pg-boss error'));
  boss.on('warning', (w) => log.warn({ warning: w.data }, `event bus: ${w.message}`));

  /** The critical lane: its own pg-boss instance on its own pool, started with its first subscriber. */
  let critical: { pool: Pool; boss: PgBoss } | undefined;
  const criticalLane = async (): Promise<PgBoss> => {
    if (critical) return critical.boss;
    const lanePool = new pg.Pool({ ...pool.options, max: criticalConnections, application_name: `${pool.options.application_name ?? 'ems'}-critical` });
    lanePool.on('error', () => undefined);
    const laneBoss = new PgBoss({
      db: poolDatabase(lanePool),
      schema,
      // The main instance listens, routes the lane's NOTIFYs (routeNotification) and supervises every queue.
      useListenNotify: false,
      supervise: false,
      schedule: false,
      migrate: false,
      instanceName: 'ems-bus-critical',
      flowIntervalSeconds: 3600,
    });
    laneBoss.on('error', (err) => log.error({ err }, 'event bus: pg-boss error (critical lane)'));
    laneBoss.on('warning', (w) => log.warn({ warning: w.data }, `event bus (critical lane): ${w.message}`));
    try {
      await laneBoss.start();
    } catch (err) {
      await lanePool.end().catch(() => undefined);
      throw err;
    }
    critical = { pool: lanePool, boss: laneBoss };
    return laneBoss;
  };
  /** Subscriber → the pg-boss instance working its queue (the main one, or the critical lane's). */
  const workedBy = new Map<string, PgBoss>();

  const publishSql = publishStatement(schema);
  const subscriptions = new Map<string, Subscription>();
  /** Subscribers unsubscribed before the first start: their stored routing is removed at start. */
  const retired = new Set<string>();
  /** …and of those, the ones whose pending jobs go too (unsubscribe's discardPending). */
  const discarded = new Set<string>();
  const removeRouting = async (name: string) => {
    await pool.query(`DELETE FROM ${quoteIdent(schema)}.subscription WHERE name = $1`, [name]);
  };
  let running = false;

  /** One statement for every queue this process works, before its workers start (see resumeHeldJobs). */
  const resumeHeld = async (queues: string[]) => {
    const { rowCount } = await pool.query(
      `UPDATE ${quoteIdent(schema)}.job SET state = 'retry', start_after = ${quoteIdent(schema)}.job_now() WHERE name = ANY($1::text[]) AND state = 'active'`,
      [queues],
    );
    if (rowCount) log.warn({ deliveries: rowCount }, 'event bus: deliveries left in flight by a stopped process, retried now');
  };

  /**
   * The polling floor, for every queue this process works at once: one statement finds the queues with
   * a job ready now (what a worker's fetch would take: pg-boss's own predicate) and wakes one worker of
   * each. Replaces a fetch per worker per interval (measured: ~27 workers, each polling every second).
   */
  const readySql = `SELECT DISTINCT name FROM ${quoteIdent(schema)}.job_common
    WHERE name = ANY($1::text[]) AND state < 'active' AND NOT blocked AND start_after <= ${quoteIdent(schema)}.job_now()`;
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = async () => {
    const queues = [...wakeups.keys()];
    if (queues.length === 0) return;
    const { rows } = await pool.query<{ name: string }>(readySql, [queues]);
    for (const { name } of rows) wakeups.get(name)?.wakeOne();
  };
  const startSweeping = () => {
    clearInterval(sweeper);
    sweeper = setInterval(() => {
      sweeping = sweep().catch((err: unknown) => log.warn({ err }, 'event bus: could not look for waiting jobs; workers still poll on their own'));
    }, idlePollingIntervalSeconds * 1000);
    sweeper.unref();
  };
  /** pg-boss can only insert jobs once it has started (installed its schema, cached its queues) once. */
  let startedOnce = false;

  // start, stop and (un)subscribing after start run one at a time: each sees the state the last left.
  let last: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = last.then(fn);
    last = run.catch(() => undefined);
    return run;
  };

  let tableReady: Promise<unknown> | undefined;
  const ensureTable = () => (tableReady ??= (install ? migrate(pool, schema, deadLetterMigrations).then(() => keepJobStatisticsFresh(pool, schema)) : Promise.resolve()).catch((err: unknown) => {
    tableReady = undefined;
    throw err;
  }));

  const whenStartedOnce = async () => {
    if (startedOnce) return;
    await last; // a start() in progress
    if (!startedOnce) throw new Error('event bus not started: call start() once (it installs the bus schema) before publishing or replaying');
  };

  const table = createDeadLetterTable(pool, schema, async (client, subscriber, event) => {
    await whenStartedOnce();
    const id = await boss.send(subscriber, { event } satisfies JobData, { db: clientDatabase(client) });
    if (!id) throw new Error(`could not re-deliver to ${subscriber}`);
    return id;
  });

  /** Creates a queue, or brings an existing one's settings in line; safe when processes race. */
  const ensureQueue = async (name: string, wanted: QueueOptions & { deadLetter?: string; notify: boolean }) => {
    const existing = await boss.getQueue(name);
    if (!existing) return boss.createQueue(name, wanted);
    if (differs(existing, wanted)) await boss.updateQueue(name, wanted);
  };

  /**
   * A renamed subscriber (Subscription.formerNames): what waits under a former name moves to the current
   * one, in one transaction under the topology lock — safe on every start and from several processes at
   * once (the second finds nothing left). For each former name still there:
   * - its jobs not yet completed (created, retry, active) go to the new queue as they are — same id,
   *   data, retry count and start_after, so a pending retry keeps its backoff — and its dead-letter
   *   queue's the same way (the bus's queues share pg-boss's common job table, `partition: false`; an
   *   UPDATE of the partition key would move a row between partitions anyway). A job still active was
   *   taken by a process of the previous version: its completion then matches no job (pg-boss settles by
   *   name and id) and the job is retried here when it expires (at once with resumeHeldJobs: that
   *   process is gone) — the handler dedupes by event id;
   * - its recorded dead letters (bus.dead_letters) go under the new name;
   * - its routing, then the old queues go (pg-boss's delete_queue(), which also drops their completed
   *   jobs; the main queue first, as it names the other as its dead-letter queue).
   * The old queue rows are locked first (FOR UPDATE): a publish racing the move into the old queue
   * waits for it at its commit (its foreign-key check) and then fails, rolled back — it never commits a
   * job the move would miss. pg-boss's cached queue counts are refreshed by its monitor.
   */
  const moveFormerNames = async (sub: Subscription) => {
    const formers = (sub.formerNames ?? []).filter((name) => name !== sub.name);
    if (formers.length === 0) return;
    const s = quoteIdent(schema);
    await withTransaction(pool, async (client) => {
      await lockTopology(client, schema);
      for (const former of formers) {
        const formerDead = former + DEAD_LETTER_SUFFIX;
        const { rows: queues } = await client.query<{ name: string }>(`SELECT name FROM ${s}.queue WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`, [[former, formerDead]]);
        const exists = new Set(queues.map((q) => q.name));
        const newDead = sub.name + DEAD_LETTER_SUFFIX;
        // Both queues in one statement: each job to its queue's new name (a main-queue job's dead-letter queue with it).
        const { rows: moved } = await client.query<{ name: string }>(
          `UPDATE ${s}.job SET name = CASE WHEN name = $1 THEN $3 ELSE $4 END,
             dead_letter = CASE WHEN dead_letter = $2 THEN $4 ELSE dead_letter END,
             state = CASE WHEN state = 'active' AND $5::bool THEN 'retry'::${s}.job_state ELSE state END,
             start_after = CASE WHEN state = 'active' AND $5::bool THEN ${s}.job_now() ELSE start_after END
           WHERE name = ANY(ARRAY[$1, $2]::text[]) AND state < 'completed'
           RETURNING name`,
          [former, formerDead, sub.name, newDead, options.resumeHeldJobs === true],
        );
        const jobs = moved.filter((j) => j.name === sub.name).length;
        const deadJobs = moved.length - jobs;
        const letters = await renameDeadLetters(client, schema, former, sub.name);
        await client.query(`DELETE FROM ${s}.subscription WHERE name = $1`, [former]);
        if (exists.has(former)) await client.query(`SELECT ${s}.delete_queue($1)`, [former]);
        if (exists.has(formerDead)) await client.query(`SELECT ${s}.delete_queue($1)`, [formerDead]);
        if (exists.size > 0 || letters > 0) {
          log.warn({ subscriber: sub.name, formerName: former, jobs, deadLetterJobs: deadJobs, deadLetters: letters }, 'event bus: moved what waited under a former subscriber name; its queues are gone');
        }
      }
    });
  };

  const deliver = async (sub: Subscription, job: JobWithMetadata<JobData>): Promise<JobResult> => {
    const poisoned = (why: string): JobResult => {
      const reason = truncate(why);
      log.warn({ subscriber: sub.name, jobId: job.id, reason }, 'event bus: poison message dead-lettered');
      return { id: job.id, status: 'deadletter', output: { reason } };
    };
    const checked = validateEvent(unwrap(job.data), catalogue);
    if (!checked.ok) return poisoned(checked.reason);
    if (!sub.types.includes(checked.event.type)) return poisoned(`subscriber ${sub.name} does not handle ${checked.event.type}`);
    const event = checked.event;
    const attempt = job.retryCount + 1;
    const lastAttempt = job.retryCount >= job.retryLimit;
    try {
      await sub.handle(event, { attempt, lastAttempt });
      return { id: job.id, status: 'completed' };
    } catch (err) {
      const reason = truncate(describe(err));
      // Retrying cannot cure invalid data or a refusal: dead-lettered now, with the reason.
      if (isPermanent(err)) {
        log.error({ subscriber: sub.name, eventId: event.id, eventType: event.type, attempt, err }, 'event bus: handler failed with an error retrying cannot cure; dead-lettering at once');
        return { id: job.id, status: 'deadletter', output: { reason } };
      }
      log[lastAttempt ? 'error' : 'warn'](
        { subscriber: sub.name, eventId: event.id, eventType: event.type, attempt, err },
        lastAttempt ? 'event bus: handler failed on its last attempt; dead-lettering' : 'event bus: handler failed; will retry',
      );
      return { id: job.id, status: 'failed', output: { reason } };
    }
  };

  const recordDeadLetter = async (sub: Subscription, job: JobWithMetadata<JobData>): Promise<JobResult> => {
    try {
      const raw = unwrap(job.data);
      const reason = truncate(reasonOf(job.sourceOutput));
      const letter = { id: job.id, subscriber: sub.name, event: raw, reason, attempts: (job.sourceRetryCount ?? 0) + 1, deadAt: job.createdOn };
      const notYetNotified = await table.record(letter);
      if (notYetNotified) {
        log.error({ subscriber: sub.name, deadLetterId: job.id, reason, attempts: letter.attempts }, 'event bus: event dead-lettered');
        const checked = validateEvent(raw, catalogue);
        if (checked.ok && sub.types.includes(checked.event.type) && sub.onDeadLetter) {
          // If it fails, the dead-letter job fails too and is retried (the letter stays recorded once):
          // a subscriber's failure report must not be lost, or its case would only ever look late.
          await sub.onDeadLetter(checked.event, reason);
        }
        await table.markNotified(job.id);
      }
      return { id: job.id, status: 'completed' };
    } catch (err) {
      log.error({ subscriber: sub.name, jobId: job.id, err }, 'event bus: could not record a dead letter; will retry');
      return { id: job.id, status: 'failed', output: { reason: truncate(describe(err)) } };
    }
  };

  const activate = async (sub: Subscription) => {
    const queue = sub.name;
    const deadLetterQueue = queue + DEAD_LETTER_SUFFIX;
    const retry = { ...defaultRetry, ...sub.retry };
    await ensureQueue(deadLetterQueue, { retryLimit: 10, retryDelay: 1, retryBackoff: true, retryDelayMax: 60, notify: true, expireInSeconds: handlerTimeoutSeconds });
    await ensureQueue(queue, {
      retryLimit: Math.max(0, retry.maxAttempts - 1),
      retryDelay: Math.max(1, Math.ceil(retry.backoffMs / 1000)),
      retryBackoff: true,
      deadLetter: deadLetterQueue,
      notify: true,
      expireInSeconds: handlerTimeoutSeconds,
    });
    // Before its workers start: what waits under a former name is theirs from the first fetch.
    await moveFormerNames(sub);

    // Routing (event type → queue) lives in pg-boss's subscription table and outlives the process:
    // drop types this subscriber no longer declares, add the ones it does.
    const { rows } = await pool.query<{ event: string }>(`SELECT event FROM ${quoteIdent(schema)}.subscription WHERE name = $1`, [queue]);
    for (const { event } of rows) if (!sub.types.includes(event)) await boss.unsubscribe(event, queue);
    for (const type of sub.types) await boss.subscribe(type, queue);

    const lane = sub.lane === 'critical' ? await criticalLane() : boss;
    workedBy.set(queue, lane);

    // Who fetches when (see wakeups.ts): one worker per NOTIFY, timers for this process's retries and
    // dead letters, the sweep as the floor.
    const work = createWakeups((id) => lane.notifyWorker(id), { linger: Math.min(MAX_LINGER_MS, sub.linger ?? 0) });
    const drain = createWakeups((id) => boss.notifyWorker(id));
    wakeups.set(queue, work);
    wakeups.set(deadLetterQueue, drain);
    /** Wakes a worker when what a batch failed can run again, since no NOTIFY says so. */
    const afterBatch = (jobs: Array<JobWithMetadata<JobData>>, results: JobResult[], onRetry: Wakeups, onDead?: Wakeups) => {
      let dead = false;
      results.forEach((result, i) => {
        const job = jobs[i]!;
        if (result.status === 'deadletter' || (result.status === 'failed' && job.retryCount >= job.retryLimit)) dead = true;
        else if (result.status === 'failed') {
          const { first, last } = retryWindow(job.retryCount, job.retryDelay, job.retryDelayMax);
          onRetry.wakeAfter(first + 100);
          onRetry.wakeAfter(last + 100);
        }
      });
      // After pg-boss's settle has moved the job to the dead-letter queue (it runs once this returns;
      // later tries in case the database is slow to answer it).
      if (dead && onDead) for (const ms of [250, 2000, 10_000]) onDead.wakeAfter(ms);
    };
    const base = { pollingIntervalSeconds, includeMetadata: true, perJobResults: true } as const;
    const polling = { notifyPollingIntervalSeconds: workerPollingIntervalSeconds };

    // Workers take up to `batch` jobs at a time (default two) and fetch again at once after a full batch (and
    // wake an idle sibling), so a backlog drains at full speed; an odd one out takes the rest of `concurrency`
    // (one job: it wakes itself after each, for the same reason). One work() call per worker, so each has an id
    // to be woken by.
    const concurrency = Math.max(1, Math.floor(sub.concurrency ?? defaultConcurrency));
    const batch = Math.min(concurrency, Math.max(1, Math.floor(sub.batch ?? 2)));
    const full = Math.floor(concurrency / batch);
    const rest = concurrency % batch;
    type Worker = { id?: string; worker?: { busy(on: boolean): void } };
    /** One batch of one worker: marked busy (not woken meanwhile), delivered, retries scheduled. */
    const handleBatch = async (self: Worker, jobs: Array<JobWithMetadata<JobData>>): Promise<JobResult[]> => {
      self.worker?.busy(true);
      try {
        const results = await Promise.all(jobs.map((job) => deliver(sub, job)));
        afterBatch(jobs, results, work, drain);
        return results;
      } finally {
        self.worker?.busy(false);
      }
    };
    const batchWorker = async (batchSize: number) => {
      const options = { ...base, ...polling, batchSize, burstWhenBatchFull: true };
      const self: Worker = {};
      self.id = await lane.work<JobData, unknown, typeof options>(queue, options, (jobs) => {
        if (jobs.length >= options.batchSize) work.wakeOne();
        return handleBatch(self, jobs);
      });
      self.worker = work.add(self.id);
    };
    const singleWorker = async () => {
      const options = { ...base, ...polling, batchSize: 1 };
      const self: Worker = {};
      self.id = await lane.work<JobData, unknown, typeof options>(queue, options, async (jobs) => {
        const results = await handleBatch(self, jobs);
        if (self.id) lane.notifyWorker(self.id);
        return results;
      });
      self.worker = work.add(self.id);
    };
    for (const size of [...Array<number>(full).fill(batch), ...(rest > 0 ? [rest] : [])]) await (size === 1 ? singleWorker() : batchWorker(size));
    const drainOptions = { ...base, ...polling, batchSize: 5, burstWhenBatchFull: true };
    const drainer = await boss.work<JobData, unknown, typeof drainOptions>(deadLetterQueue, drainOptions, async (jobs) => {
      const results: JobResult[] = [];
      for (const job of jobs) results.push(await recordDeadLetter(sub, job));
      afterBatch(jobs, results, drain);
      return results;
    });
    drain.add(drainer);
  };

  const forget = (queue: string) => {
    wakeups.get(queue)?.clear();
    wakeups.delete(queue);
  };

  const deactivate = async (sub: Subscription) => {
    forget(sub.name);
    forget(sub.name + DEAD_LETTER_SUFFIX);
    await (workedBy.get(sub.name) ?? boss).offWork(sub.name, { wait: true });
    workedBy.delete(sub.name);
    await boss.offWork(sub.name + DEAD_LETTER_SUFFIX, { wait: true });
  };

  return {
    name: 'postgres',

    async publish(tx: TransactionLike, events) {
      // All or nothing: every event is checked before the first is written.
      const valid: CloudEvent[] = [];
      for (const e of events) {
        const checked = validateEvent(e, catalogue);
        if (!checked.ok) throw new PermanentError(`refusing to publish event ${describeEvent(e)}: ${checked.reason}`);
        valid.push(checked.event);
      }
      if (valid.length === 0) return;
      await whenStartedOnce();
      // Routing and jobs in one statement, in the caller's transaction (publish-statement.ts). On the
      // caller's connection matters: pg-boss's publish() read the routing on a second pooled connection
      // while this one was held — with the pool full of publishing transactions, a deadlock until the
      // pool's timeout (measured by the benchmark at 20 concurrent submissions).
      const db = transactionDatabase(tx);
      const payload = JSON.stringify(valid.map((event, ord) => ({ ord, type: event.type, data: { event } satisfies JobData })));
      const { rows } = await db.executeSql(publishSql, [payload]);
      const { elsewhere } = rows[0] as PublishResult;
      for (const { ord, name } of elsewhere ?? []) await boss.send(name, { event: valid[ord] } satisfies JobData, { db });
    },

    async subscribe(sub) {
      if (!SUBSCRIBER_NAME.test(sub.name) || sub.name.endsWith(DEAD_LETTER_SUFFIX)) {
        throw new Error(`invalid subscriber name ${JSON.stringify(sub.name)}: letters, digits, '.', '_' and '-' only`);
      }
      if (sub.types.length === 0) throw new Error(`subscriber ${sub.name} subscribes to no event type`);
      for (const former of sub.formerNames ?? []) {
        if (!SUBSCRIBER_NAME.test(former) || former.endsWith(DEAD_LETTER_SUFFIX) || former === sub.name) throw new Error(`invalid former name ${JSON.stringify(former)} of subscriber ${sub.name}`);
      }
      if (subscriptions.has(sub.name)) throw new Error(`subscriber ${sub.name} is already subscribed`);
      const unknown = sub.types.filter((t) => !catalogue[t]);
      if (unknown.length) log.warn({ subscriber: sub.name, unknown }, 'event bus: subscribing to types missing from the catalogue; their events will be dead-lettered');
      subscriptions.set(sub.name, sub);
      try {
        await serially(async () => {
          if (running && subscriptions.get(sub.name) === sub) await activate(sub);
        });
      } catch (err) {
        subscriptions.delete(sub.name);
        throw err;
      }
    },

    /**
     * Stops delivering to the subscriber and removes its routing — also when this process never
     * subscribed it (routing is stored in the database, e.g. left by a run in another mode); its queue
     * (unless discardPending) and dead letters stay. Before the first start() the removal waits for it.
     */
    async unsubscribe(name, { discardPending = false } = {}) {
      const sub = subscriptions.get(name);
      subscriptions.delete(name);
      await serially(async () => {
        if (sub && running) await deactivate(sub);
        if (startedOnce) {
          await removeRouting(name);
          // Its jobs go with the queue (pg-boss); its dead letters stay, on a queue of their own.
          if (discardPending) await boss.deleteQueue(name);
        } else {
          retired.add(name);
          if (discardPending) discarded.add(name);
        }
      });
    },

    start: () =>
      serially(async () => {
        if (running) return;
        // Processes starting together on a fresh database race on pg-boss's CREATE SCHEMA IF NOT
        // EXISTS (PostgreSQL can answer it with a unique violation pg-boss does not expect): create the
        // schema first, one process at a time.
        if (install) await createBusSchema(pool, schema);
        await boss.start();
        await ensureTable();
        startedOnce = true;
        for (const name of retired) await removeRouting(name);
        for (const name of discarded) await boss.deleteQueue(name);
        retired.clear();
        discarded.clear();
        running = true;
        if (options.resumeHeldJobs) await resumeHeld([...subscriptions.keys()].flatMap((name) => [name, name + DEAD_LETTER_SUFFIX]));
        for (const sub of subscriptions.values()) await activate(sub);
        startSweeping();
      }),

    stop: () =>
      serially(async () => {
        if (!running) return;
        running = false;
        clearInterval(sweeper);
        sweeper = undefined;
        await sweeping; // not left running on a pool the caller may close next
        for (const queue of [...wakeups.keys()]) forget(queue);
        // Graceful: waits for handlers in flight (up to stopTimeoutMs); the pool stays open (it is the
        // caller's), the critical lane's is ours and closes.
        const lane = critical;
        critical = undefined;
        workedBy.clear();
        await Promise.all([boss.stop({ graceful: true, close: false, timeout: stopTimeoutMs }), lane?.boss.stop({ graceful: true, close: false, timeout: stopTimeoutMs })]);
        await lane?.pool.end();
      }),

    deadLetters: {
      list: async (query) => {
        await ensureTable();
        return table.list(query);
      },
      get: async (id) => {
        await ensureTable();
        return table.get(id);
      },
      replay: async (id) => {
        await ensureTable();
        return table.replay(id);
      },
    },

    async injectRaw(subscriber, raw) {
      await whenStartedOnce();
      await boss.send(subscriber, { event: raw } satisfies JobData);
    },

    subscribers: () => [...subscriptions.keys()],

    /**
     * The subscriber's queue, then its dead-letter queue: no job created before the mark (the schema's
     * clock, read after the call) still to run — created, waiting for a retry or active. A job failed
     * for good has put its dead letter on the second queue in the same statement, so once the first is
     * settled the second's mark covers it.
     */
    async settled(subscriber, { timeoutMs = 30_000 } = {}) {
      await whenStartedOnce();
      const s = quoteIdent(schema);
      const deadline = Date.now() + timeoutMs;
      for (const queue of [subscriber, subscriber + DEAD_LETTER_SUFFIX]) {
        const { rows } = await pool.query<{ mark: Date }>(`SELECT ${s}.job_now() AS mark`);
        const mark = rows[0]!.mark;
        for (;;) {
          const left = await pool.query<{ state: string; n: number }>(
            `SELECT state::text, count(*)::int AS n FROM ${s}.job WHERE name = $1 AND state < 'completed' AND created_on <= $2 GROUP BY state`,
            [queue, mark],
          );
          if (left.rows.length === 0) break;
          if (Date.now() > deadline) {
            throw new Error(`event bus: ${queue} not settled after ${timeoutMs} ms: ${left.rows.map((r) => `${r.n} ${r.state}`).join(', ')}`);
          }
          await pause(SETTLED_POLL_MS);
        }
      }
    },
  };
}

const SETTLED_POLL_MS = 50;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function unwrap(data: unknown): unknown {
  return typeof data === 'object' && data !== null && 'event' in data ? data.event : data;
}

function differs(existing: QueueResult, wanted: QueueOptions & { deadLetter?: string; notify: boolean }): boolean {
  return (
    existing.retryLimit !== wanted.retryLimit ||
    existing.retryDelay !== wanted.retryDelay ||
    existing.retryBackoff !== wanted.retryBackoff ||
    (existing.retryDelayMax ?? undefined) !== wanted.retryDelayMax ||
    existing.expireInSeconds !== wanted.expireInSeconds ||
    (existing.deadLetter ?? undefined) !== wanted.deadLetter ||
    Boolean(existing.notify) !== wanted.notify
  );
}

const describe = describeError;

/** pg-boss stores the failed attempt's output: ours ({reason}), an Error it serialised, or {value}. */
function reasonOf(output: unknown): string {
  if (typeof output === 'object' && output !== null) {
    const o = output as Record<string, unknown>;
    for (const key of ['reason', 'message', 'value']) {
      const v = o[key];
      if (typeof v === 'string' && v) return v;
      if (typeof v === 'object' && v !== null) return reasonOf(v);
    }
    return JSON.stringify(output);
  }
  return 'failed (no reason recorded)';
}

function truncate(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s;
}

function describeEvent(e: unknown): string {
  const { type, id } = (typeof e === 'object' && e !== null ? e : {}) as { type?: unknown; id?: unknown };
  return `${typeof type === 'string' ? type : '(no type)'} ${typeof id === 'string' ? id : '(no id)'}`;
}
