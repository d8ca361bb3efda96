import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit.ts';

/** A batch writer the test lets finish when it wants: records each batch it was given. */
function gatedWriter() {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const together = async (batch: readonly number[]) => {
    batches.push([...batch]);
    await new Promise<void>((open) => gates.push(open));
    return batch.map((n) => (n < 0 ? { ok: false as const, error: new Error(`refused ${n}`) } : { ok: true as const, value: n * 10 }));
  };
  return { batches, together, openNext: () => gates.shift()?.() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('group commit', () => {
  it('when requests arrive while the batches allowed at once are being written, then they wait and go together in the next, each answered as its own', async () => {
    const w = gatedWriter();
    const submit = groupCommit<number, number>({ together: w.together, alone: async () => Promise.reject(new Error('not used')), max: 100, atOnce: 2 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => submit(n));
    await tick();
    expect(w.batches).toEqual([[1], [2]]);
    w.openNext();
    await tick();
    expect(w.batches).toEqual([[1], [2], [3, 4, 5, 6]]);
    w.openNext();
    w.openNext();
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('when requests are made in the same turn with gather, then they go together, the first one too; later ones as before', async () => {
    const w = gatedWriter();
    const submit = groupCommit<number, number>({ together: w.together, alone: async () => Promise.reject(new Error('not used')), max: 4, atOnce: 2, gather: true });
    const first = [1, 2, 3, 4, 5, 6].map((n) => submit(n));
    await tick();
    // A batch of at most max, then the rest in the second batch allowed at once.
    expect(w.batches).toEqual([[1, 2, 3, 4], [5, 6]]);
    const later = [7, 8].map((n) => submit(n));
    await tick();
    expect(w.batches).toHaveLength(2);
    w.openNext();
    await tick();
    expect(w.batches).toEqual([[1, 2, 3, 4], [5, 6], [7, 8]]);
    w.openNext();
    w.openNext();
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
  });

  it('when more requests wait than a batch takes, then they go in batches of at most max, in arrival order', async () => {
    const w = gatedWriter();
    const submit = groupCommit<number, number>({ together: w.together, alone: async () => Promise.reject(new Error('not used')), max: 3, atOnce: 1 });
    const answers = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => submit(n));
    for (let i = 0; i < 4; i++) {
      await tick();
      w.openNext();
    }
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(w.batches).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
  });

  it('when a batch answers one request with a refusal, then only that request is rejected, with it', async () => {
    const w = gatedWriter();
    const submit = groupCommit<number, number>({ together: w.together, alone: async () => Promise.reject(new Error('not used')), max: 10, atOnce: 1 });
    const first = submit(1);
    const rest = [2, -3, 4].map((n) => submit(n));
    await tick();
    w.openNext();
    await tick();
    w.openNext();
    expect(await first).toBe(10);
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([20, 'refused -3', 40]);
  });

  it('when a batch’s write fails, then each of its requests is tried alone and only the one that fails alone is rejected', async () => {
    const batches: number[][] = [];
    const tried: number[] = [];
    const submit = groupCommit<number, number>({
      together: async (batch) => {
        batches.push([...batch]);
        await tick();
        if (batch.includes(13)) throw new Error('the database refused the batch');
        return batch.map((n) => ({ ok: true as const, value: n }));
      },
      alone: async (n) => {
        tried.push(n);
        if (n === 13) throw new Error('the database refused 13');
        return n;
      },
      max: 10,
      atOnce: 1,
    });
    const settled = await Promise.allSettled([1, 12, 13, 14].map((n) => submit(n)));
    expect(batches).toEqual([[1], [12, 13, 14]]);
    expect(tried.sort()).toEqual([12, 13, 14]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([1, 12, 'the database refused 13', 14]);
  });

  it('when a batch of one fails, then its request is rejected with that error (not tried again)', async () => {
    const tried: number[] = [];
    const submit = groupCommit<number, number>({
      together: async () => Promise.reject(new Error('down')),
      alone: async (n) => {
        tried.push(n);
        return n;
      },
      max: 10,
      atOnce: 1,
    });
    await expect(submit(1)).rejects.toThrow('down');
    expect(tried).toEqual([]);
  });
});
