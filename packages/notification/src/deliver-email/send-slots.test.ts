import { describe, expect, it } from 'vitest';
import { createSendSlots } from './send-slots.ts';

describe('send slots', () => {
  it('when all slots are taken, then tryAcquire says none and acquire waits for a release, first come first served', async () => {
    const slots = createSendSlots(2);
    const a = slots.tryAcquire();
    const b = await slots.acquire();
    expect(a).toBeDefined();
    expect(slots.tryAcquire()).toBeUndefined();

    const order: string[] = [];
    const c = slots.acquire().then((s) => (order.push('c'), s));
    const d = slots.acquire().then((s) => (order.push('d'), s));
    b.release();
    const slotC = await c;
    expect(order).toEqual(['c']);
    a!.release();
    await d;
    expect(order).toEqual(['c', 'd']);
    expect(slots.tryAcquire()).toBeUndefined();
    slotC.release();
    expect(slots.tryAcquire()).toBeDefined();
  });

  it('when a slot is released twice, then it frees one slot, not two', () => {
    const slots = createSendSlots(1);
    const a = slots.tryAcquire()!;
    a.release();
    a.release();
    expect(slots.tryAcquire()).toBeDefined();
    expect(slots.tryAcquire()).toBeUndefined();
  });
});
