import { createPoller, type Poller } from '@ems/platform';
import type { ConnectedSystems } from '../registry.ts';
import { applyChange, type ApplyChangeDeps, type ChangeOutcome, type RetryPolicy, type TaskRow } from './apply-change.ts';
import { claimDueTasks } from './claim-due-tasks.ts';

/**
 * The connector worker: carries connector tasks to their systems. It runs in every process hosting
 * Access (both modes); several processes share the table.
 *
 *   wake (a commit wrote tasks) ─┐
 *   every intervalMs ────────────┴─▶ claim the free slots' worth of due tasks, each system within its share:
 *                                      one short statement, committed (claim-due-tasks.ts)
 *                                  ─▶ apply each (no transaction open; AbortSignal deadline) ─▶ record (apply-change.ts)
 *                                  ─▶ claim again while slots are free, up to maxInFlight calls at once
 *
 * A task is due when pending, its next attempt has come, no live lease holds it, and no older task of
 * the same employee on the same system is still pending (changes reach a system in the order they were
 * decided: a restore never overtakes its suspend). Tasks of other systems never wait for a slow or
 * dead one: each call runs on its own, up to maxInFlight at once, and each system takes at most its
 * share of them (maxInFlight / number of systems, at least 1) — a system that hangs on many changes
 * cannot fill every slot and leave the others' changes waiting for its deadline.
 *
 * A process that dies mid-call leaves its lease behind; once it expires, any process claims the task
 * again (the connector's apply is idempotent per change id). Stop waits for the calls in flight.
 *
 * The loop is platform's poller: a round claims while there are free slots (the calls run on after it
 * ends); a wake-up, or a call ending, runs a round at once — or right after the one in flight.
 */

export interface ConnectorWorkerOptions extends RetryPolicy {
  /** How often it looks for due tasks without being woken. */
  intervalMs: number;
  /** Calls in flight at once, all systems together (at least one per system). Default 16. */
  maxInFlight?: number;
  /** A claim's lease: the deadline of the call plus this margin for recording the outcome. Default 30 s. */
  leaseMarginMs?: number;
  /**
   * Due tasks of one system a claim looks at before it looks further (claim-due-tasks.ts). Default 32:
   * more than the calls in flight that can hold newer tasks back, so the window nearly always has one to take.
   */
  claimWindow?: number;
}

export interface ConnectorWorker extends Pick<Poller, 'drained' | 'rounds'> {
  start(): void;
  /** Looks for due tasks now (after a commit that wrote some). */
  wake(): void;
  /** Stops claiming and waits for the calls in flight to be recorded. */
  stop(): Promise<void>;
  /** Claims and applies every task due now, one after the other (tests, tools); answers what came of each. */
  runDue(): Promise<ChangeOutcome[]>;
}

export function createConnectorWorker(deps: ApplyChangeDeps & { systems: ConnectedSystems }, options: ConnectorWorkerOptions): ConnectorWorker {
  const { db, clock, log, systems } = deps;
  const systemIds = systems.all.map((s) => s.id);
  const maxInFlight = Math.max(options.maxInFlight ?? 16, systemIds.length);
  /** Calls in flight at once on one system: its share, so a hung system never holds every slot. */
  const perSystem = Math.max(1, Math.floor(maxInFlight / Math.max(1, systemIds.length)));
  const leaseMs = options.timeoutMs + (options.leaseMarginMs ?? 30_000);
  const claimWindow = Math.max(1, options.claimWindow ?? 32);
  const inFlight = new Set<Promise<unknown>>();
  const inFlightOn = new Map<string, number>();

  /**
   * Leases due tasks, up to `limit` and each system's free slots, in one statement (claim-due-tasks.ts):
   * from the window of each system's first due tasks, and past it only when the window is all held back.
   */
  const claim = (slots: ReadonlyMap<string, number>, limit: number): Promise<TaskRow[]> =>
    claimDueTasks(db, { now: clock.now(), leaseMs, slots, limit, window: claimWindow });

  const apply = (task: TaskRow) => applyChange(deps, systems.connectorFor(task.system_id), task, options);

  /**
   * One round: claims due tasks while slots are free, starting each call; answers how many it claimed
   * (a claim that fails fails the round: the poller logs it and tries again on the next tick).
   */
  async function fill(stopping: AbortSignal): Promise<number> {
    let claimed = 0;
    while (!stopping.aborted && inFlight.size < maxInFlight) {
      const slots = new Map(systemIds.map((id) => [id, perSystem - (inFlightOn.get(id) ?? 0)]));
      const batch = await claim(slots, maxInFlight - inFlight.size);
      if (batch.length === 0) break;
      claimed += batch.length;
      for (const task of batch) startCall(task);
    }
    return claimed;
  }

  /** Runs a claimed task's call in its slot; its end frees the slot and wakes the loop. */
  function startCall(task: TaskRow): void {
    const systemId = task.system_id;
    inFlightOn.set(systemId, (inFlightOn.get(systemId) ?? 0) + 1);
    const call: Promise<unknown> = apply(task)
      .catch((err: unknown) => log.error({ err, changeId: task.id, systemId }, 'connector worker: recording an outcome failed; the task is claimed again when its lease ends'))
      .finally(() => {
        inFlight.delete(call);
        inFlightOn.set(systemId, (inFlightOn.get(systemId) ?? 1) - 1);
        // A finished task may let the next one of its (employee, system) go.
        poller.wake();
      });
    inFlight.add(call);
  }

  // A round never claims more than maxInFlight: a full one (all slots were free and taken) is followed
  // by another at once, which finds no free slot and ends; a call ending wakes the next.
  const poller = createPoller({ name: 'connector worker', log, intervalMs: options.intervalMs, batch: maxInFlight, work: (_limit, stopping) => fill(stopping) });

  return {
    start() {
      if (systemIds.length === 0) return;
      poller.start();
    },
    wake: () => poller.wake(),
    async stop() {
      await poller.stop();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    drained: () => poller.drained(),
    get rounds() {
      return poller.rounds;
    },
    async runDue() {
      // One at a time: a task claimed is applied at once, so its lease never runs out waiting behind others.
      const outcomes: ChangeOutcome[] = [];
      const any = new Map(systemIds.map((id) => [id, 1]));
      for (let [task] = await claim(any, 1); task; [task] = await claim(any, 1)) outcomes.push(await apply(task));
      return outcomes;
    },
  };
}
