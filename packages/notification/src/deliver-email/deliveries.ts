/** Keeps track of delivery promises that outlive the code that started them, so shutdown can wait. */
export interface Deliveries {
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves when every tracked delivery has settled. */
  drain(): Promise<void>;
}

export function createDeliveries(): Deliveries {
  const running = new Set<Promise<unknown>>();
  return {
    track(work) {
      running.add(work);
      void work.then(
        () => running.delete(work),
        () => running.delete(work),
      );
      return work;
    },
    async drain() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
