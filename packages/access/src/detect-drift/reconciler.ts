import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { backoffDelay, conflict, createPoller, type Actor, type Poller } from '@ems/platform';
import type { access } from '@ems/contracts';
import { runReconciliation, type ReconciliationDeps } from './run-reconciliation.ts';

/**
 * The reconciler: a round every `intervalMs`, in whichever process hosting Access gets to it first.
 *
 *   every pollMs, each process ─▶ claim the reconciler row: `interval` has passed since the last round
 *        ended and no round runs (UPDATE … RETURNING: one process wins) ─▶ run the round, renewing its
 *        lease ─▶ release: last_round_at = now, last_round = summary
 *
 * The row lives in the database, so the period holds across processes (two processes do not make
 * rounds twice as often) and across restarts; a process that dies mid-round leaves a lease that runs
 * out, and the next claim takes over. Times are the database's (one clock for every process).
 * `runNow` (POST /api/access/reconciliations) claims the row however recent the last round, waiting
 * for a running round to finish first.
 */

export interface Reconciler extends Pick<Poller, 'drained' | 'rounds'> {
  start(): void;
  stop(): Promise<void>;
  /** Runs a round now (waiting up to `waitMs` for a running one to end), on behalf of `by`; 409 when it did not end. */
  runNow(by: Actor | null, waitMs?: number): Promise<access.Reconciliation>;
  /** One poll: runs a round if one is due and none runs. Answers whether it ran one. */
  runIfDue(): Promise<boolean>;
}

export interface ReconcilerOptions {
  intervalMs: number;
  /** How often a process looks whether a round is due; default min(interval, 5 s). */
  pollMs?: number;
  /** A round's lease, renewed while it runs; default 60 s. */
  leaseMs?: number;
}

/** How runNow looks again while another round runs. */
const RUN_NOW_WAIT = { baseMs: 50, maxMs: 1_000 } as const;

export function createReconciler(deps: ReconciliationDeps, options: ReconcilerOptions): Reconciler {
  const { db, log } = deps;
  const intervalMs = options.intervalMs;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new Error(`access: the reconciliation interval must be a positive number of milliseconds, got ${intervalMs}`);
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? Math.min(intervalMs, 5_000);
  const stopping = new AbortController();
  let rowEnsured = false;
  const ms = (n: number) => sql<Date>`clock_timestamp() + make_interval(secs => ${n / 1000})`;

  /** Claims the round: `due` only when the interval has passed since the last round. Answers the run token, or undefined. */
  async function claim(due: boolean): Promise<string | undefined> {
    const token = randomUUID();
    // The row exists from migration 7 on; a database emptied by hand gets it back here (once per process).
    if (!rowEnsured) {
      await db.insertInto('reconciler').values({ last_round_at: new Date(0) }).onConflict((oc) => oc.column('id').doNothing()).execute();
      rowEnsured = true;
    }
    let q = db
      .updateTable('reconciler')
      .set({ running_until: ms(leaseMs), run_token: token })
      .where((eb) => eb.or([eb('running_until', 'is', null), eb('running_until', '<', sql<Date>`clock_timestamp()`)]));
    if (due) q = q.where('last_round_at', '<=', ms(-intervalMs));
    const claimed = await q.returning('run_token').executeTakeFirst();
    return claimed ? token : undefined;
  }

  async function round(token: string, by: Actor | null): Promise<access.Reconciliation> {
    // Renew the lease while the round runs, so a long round is not taken over.
    const renew = setInterval(() => {
      db.updateTable('reconciler')
        .set({ running_until: ms(leaseMs) })
        .where('run_token', '=', token)
        .execute()
        .catch((err: unknown) => log.warn({ err }, 'reconciliation: could not renew the lease'));
    }, leaseMs / 3);
    renew.unref();
    let summary: access.Reconciliation | undefined;
    try {
      summary = await runReconciliation(deps, by, stopping.signal);
      return summary;
    } finally {
      clearInterval(renew);
      await db
        .updateTable('reconciler')
        .set({ running_until: null, run_token: null, last_round_at: sql<Date>`clock_timestamp()`, ...(summary ? { last_round: JSON.stringify(summary) } : {}) })
        .where('run_token', '=', token)
        .execute();
    }
  }

  async function runIfDue(): Promise<boolean> {
    // Nothing to read (no connected system can inspect, e.g. the demo's built-in systems only): no round, no database traffic.
    if (!deps.systems.all.some((s) => typeof s.connector.inspect === 'function')) return false;
    const token = await claim(true);
    if (!token) return false;
    await round(token, null);
    return true;
  }

  const poller = createPoller({ name: 'reconciler', log, intervalMs: pollMs, batch: 1, work: async () => {
      await runIfDue();
      return 0;
    },
  });

  return {
    start: () => poller.start(),
    async stop() {
      stopping.abort();
      await poller.stop();
    },
    runIfDue,
    /** A poll now: resolves once it has looked (and run the round if one was due). */
    drained: () => poller.drained(),
    get rounds() {
      return poller.rounds;
    },
    async runNow(by, waitMs = 30_000) {
      const deadline = Date.now() + waitMs;
      for (let tries = 1; ; tries++) {
        const token = await claim(false);
        if (token) return round(token, by);
        if (Date.now() >= deadline) throw conflict('A reconciliation is running and did not finish in time; try again shortly');
        // Looks again soon, then less often: 50 ms doubling up to 1 s (platform's one backoff formula).
        await sleep(backoffDelay(tries, RUN_NOW_WAIT));
      }
    },
  };
}
