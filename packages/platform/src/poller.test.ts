import { describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.ts';
import { createPoller } from './poller.ts';

const log = createLogger({ level: 'silent' });

describe('createPoller', () => {
  it('when a round takes a full batch, then the next round follows at once, until a round takes less', async () => {
    const backlog = [3, 3, 1, 0];
    const calls: number[] = [];
    let drained!: () => void;
    const done = new Promise<void>((resolve) => (drained = resolve));
    const poller = createPoller({
      name: 'test',
      log,
      // Far longer than the test: only the "full batch → again at once" rule can make the 3rd call.
      intervalMs: 60_000,
      batch: 3,
      work: async (limit) => {
        const n = Math.min(limit, backlog.shift() ?? 0);
        calls.push(n);
        if (n < limit) drained();
        return n;
      },
    });
    poller.start();
    await done;
    await poller.stop();
    expect(calls).toEqual([3, 3, 1]);
  });

  it('when stopped during a round, then the round sees stopping aborted and stop() waits for it to end', async () => {
    let entered!: () => void;
    const inRound = new Promise<void>((resolve) => (entered = resolve));
    let roundEnded = false;
    const poller = createPoller({
      name: 'test',
      log,
      intervalMs: 60_000,
      batch: 10,
      work: async (_limit, stopping) => {
        entered();
        await new Promise<void>((resolve) => stopping.addEventListener('abort', () => resolve(), { once: true }));
        roundEnded = true;
        return 1;
      },
    });
    poller.start();
    await inRound;
    await poller.stop();
    expect(roundEnded).toBe(true);
  });

  it('when a round throws, then the loop goes on with the next tick', async () => {
    let calls = 0;
    let second!: () => void;
    const again = new Promise<void>((resolve) => (second = resolve));
    const poller = createPoller({
      name: 'test',
      log,
      intervalMs: 5,
      batch: 1,
      work: async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        second();
        return 0;
      },
    });
    poller.start();
    await again;
    await poller.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('when drained() is awaited, then work added before the call has been taken on when it resolves, without waiting for the tick', async () => {
    const queue: number[] = [];
    const taken: number[] = [];
    const poller = createPoller({
      name: 'test',
      log,
      intervalMs: 60_000,
      batch: 2,
      work: async (limit) => {
        const items = queue.splice(0, limit);
        taken.push(...items);
        return items.length;
      },
    });
    poller.start();
    await poller.drained();
    queue.push(1, 2, 3, 4, 5);
    await poller.drained();
    expect(taken).toEqual([1, 2, 3, 4, 5]);
    expect(poller.rounds).toBeGreaterThanOrEqual(2);
    await poller.stop();
  });

  it('when woken, then a round runs now instead of at the tick; woken during a round that had already looked, then another runs right after it', async () => {
    const queue: number[] = [];
    const waitingFor = new Map<number, () => void>();
    const took = (n: number) => new Promise<void>((resolve) => waitingFor.set(n, resolve));
    let gate: { entered: () => void; open: Promise<void> } | undefined;
    const poller = createPoller({
      name: 'test',
      log,
      // Far longer than the test: only wake() can start the rounds below.
      intervalMs: 60_000,
      batch: 10,
      work: async (limit) => {
        const items = queue.splice(0, limit);
        for (const n of items) waitingFor.get(n)?.();
        if (gate) {
          const g = gate;
          gate = undefined;
          g.entered();
          await g.open;
        }
        return items.length;
      },
    });
    poller.start();
    await poller.drained();

    queue.push(1);
    const first = took(1);
    poller.wake();
    await first;

    // A round that has looked (found nothing) and is still running when the news comes.
    let entered!: () => void;
    let open!: () => void;
    const inRound = new Promise<void>((resolve) => (entered = resolve));
    gate = { entered, open: new Promise<void>((resolve) => (open = resolve)) };
    poller.wake();
    await inRound;
    queue.push(2);
    const second = took(2);
    poller.wake();
    open();
    await second;
    await poller.stop();
    poller.wake(); // stopped: nothing happens
    expect(queue).toEqual([]);
  });

  it('when a round fails, then drained() waits for a round that succeeds; after stop() it rejects', async () => {
    let failNext = true;
    const poller = createPoller({
      name: 'test',
      log,
      intervalMs: 10,
      batch: 5,
      work: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('database down');
        }
        return 0;
      },
    });
    poller.start();
    await poller.drained();
    expect(failNext).toBe(false);
    await poller.stop();
    await expect(poller.drained()).rejects.toThrow(/not running/);
  });

  it('when rounds keep failing while someone waits on drained(), then the next round still waits for the tick', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const poller = createPoller({
        name: 'test',
        log,
        intervalMs: 5_000,
        batch: 5,
        work: async () => {
          calls++;
          throw new Error('database down');
        },
      });
      poller.start();
      const barrier = poller.drained();
      barrier.catch(() => undefined);
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(4_000);
      expect(calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(calls).toBe(2);
      await poller.stop();
      await expect(barrier).rejects.toThrow(/stopped/);
    } finally {
      vi.useRealTimers();
    }
  });
});
