/**
 * The only way domain code learns the time, so tests (and drills) can move it.
 *
 * Timers never trust a sleep computed from an earlier reading: a durable timer stores its due instant
 * (in clock time) and whoever waits for it re-reads the clock. A clock that can jump says so with
 * `maxWaitMs`: waiters then wake at least that often to look again, so moving the clock forward fires
 * timers whose due instant has passed. The system clock does not jump; waiters sleep until due.
 */
export interface Clock {
  now(): Date;
  /** Set when the clock may jump (tests, drills): the longest a timer may sleep before re-reading it. */
  readonly maxWaitMs?: number | undefined;
}

export const systemClock: Clock = { now: () => new Date() };

/** How long to sleep before looking again for something due at `dueAt` (never negative). */
export function waitMs(clock: Clock, dueAt: Date, cap = Number.POSITIVE_INFINITY): number {
  const ms = Math.max(0, dueAt.getTime() - clock.now().getTime());
  return Math.min(ms, cap, clock.maxWaitMs ?? Number.POSITIVE_INFINITY);
}

/**
 * The system time shifted by a fixed offset (EMS_CLOCK_OFFSET): for drills and for restart tests across
 * processes. Even at offset 0 it counts as a clock that may jump — the next run may use another offset —
 * so timers look at it every `maxWaitMs`.
 */
export function offsetClock(offsetMs: number, maxWaitMs = 1_000): Clock {
  return { now: () => new Date(Date.now() + offsetMs), maxWaitMs };
}

export interface AdjustableClock extends Clock {
  readonly maxWaitMs: number;
  /** Moves the clock forward (or back, with a negative amount). */
  advance(ms: number): void;
  /** Sets the clock to an instant; it then runs on at real speed. */
  set(at: Date): void;
}

/** A clock tests move by hand; it runs at real speed between moves. */
export function adjustableClock(start?: Date, maxWaitMs = 250): AdjustableClock {
  let offset = start ? start.getTime() - Date.now() : 0;
  return {
    maxWaitMs,
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
    set: (at) => {
      offset = at.getTime() - Date.now();
    },
  };
}
