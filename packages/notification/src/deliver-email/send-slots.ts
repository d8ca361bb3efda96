/** One of the SMTP pool's connections, held from the claim of an email to the end of its SMTP exchange. */
export interface SendSlot {
  /** Gives the slot back; a second call does nothing. */
  release(): void;
}

export interface SendSlots {
  /** Waits for a free slot. */
  acquire(): Promise<SendSlot>;
  /** A free slot now, or undefined when all are taken. */
  tryAcquire(): SendSlot | undefined;
}

/**
 * At most `size` emails between claim and the end of their SMTP exchange. Why: with a connection pool,
 * an email claimed while every connection is busy would wait in nodemailer's queue while its lease
 * runs out (and another worker, seeing the lease expired, would send it a second time). Waiting for a
 * slot *before* claiming keeps the lease for the send itself; the email stays queued, unclaimed and
 * free for anyone, while it waits.
 */
export function createSendSlots(size: number): SendSlots {
  if (!Number.isInteger(size) || size < 1) throw new Error('send slots: size must be a positive integer');
  let free = size;
  const waiting: ((slot: SendSlot) => void)[] = [];

  const slot = (): SendSlot => {
    let held = true;
    return {
      release() {
        if (!held) return;
        held = false;
        const next = waiting.shift();
        // Handed straight to the next waiter: the count of free slots does not change.
        if (next) next(slot());
        else free++;
      },
    };
  };

  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve(slot());
      }
      return new Promise<SendSlot>((resolve) => waiting.push(resolve));
    },
    tryAcquire() {
      if (free === 0) return undefined;
      free--;
      return slot();
    },
  };
}
