import type { Logger } from '@ems/platform';
import { updates } from '@ems/contracts';

type CaseUpdate = updates.CaseUpdate;
type DeadLetterUpdate = updates.DeadLetterUpdate;

/** A case changed (from the database's NOTIFY): whose it is decides who hears of it. */
export interface CaseChange extends CaseUpdate {
  employeeId: string;
}

/** One open stream: who it is for and what they may see. */
export interface UpdateSubscriber {
  /** `person:E1010` or `service:ems`: streams are counted per identity. */
  identity: string;
  /** Whether the caller may read a case of this employee (the rows of getResignation). */
  readsCase(employeeId: string): boolean;
  /** Operators hear of dead letters. */
  readsDeadLetters: boolean;
  send(event: string, data: unknown): void;
}

/** `ready`: resolves once changes will reach the stream (the process is registered as a listener). */
export type OpenResult = { ok: true; ready: Promise<void>; close(): void } | { ok: false; reason: 'too-many' };

export interface UpdatesHub {
  open(subscriber: UpdateSubscriber): OpenResult;
  caseChanged(change: CaseChange): void;
  deadLettered(letter: DeadLetterUpdate): void;
  /** Since when some open stream has wanted dead letters without a break (the watch runs only then), or undefined. */
  deadLettersWantedSince(): Date | undefined;
  /** Open streams (for readiness and tests). */
  size(): number;
  /** Ends every stream (shutdown). */
  closeAll(): void;
}

/**
 * The process's open update streams. Changes come in once per process (one LISTEN connection, one
 * dead-letter watch) and fan out here to the streams whose caller may see them.
 */
export function createUpdatesHub(o: {
  log: Logger;
  maxPerIdentity?: number;
  /** Told when the process goes from no stream to some (true) and back (false); resolves once that holds. */
  onActive?: (active: boolean) => Promise<void>;
}): UpdatesHub & { onCloseAll(fn: () => void): void } {
  const max = o.maxPerIdentity ?? updates.MAX_UPDATE_STREAMS_PER_IDENTITY;
  const open = new Set<UpdateSubscriber>();
  const perIdentity = new Map<string, number>();
  const closers = new Set<() => void>();
  let operatorsSince: Date | undefined;
  /** The last change of whether this process listens, in flight or done. */
  let active: Promise<void> | undefined;
  const operators = () => [...open].filter((s) => s.readsDeadLetters).length;
  const safely = (s: UpdateSubscriber, event: string, data: unknown) => {
    try {
      s.send(event, data);
    } catch (err) {
      o.log.warn({ err }, 'could not write to an update stream');
    }
  };
  return {
    open(s) {
      const n = perIdentity.get(s.identity) ?? 0;
      if (n >= max) return { ok: false, reason: 'too-many' };
      perIdentity.set(s.identity, n + 1);
      if (s.readsDeadLetters && operators() === 0) operatorsSince = new Date();
      const first = open.size === 0;
      open.add(s);
      const ready = first && o.onActive ? o.onActive(true) : (active ?? Promise.resolve());
      active = ready;
      let closed = false;
      return {
        ok: true,
        ready,
        close() {
          if (closed) return;
          closed = true;
          open.delete(s);
          if (operators() === 0) operatorsSince = undefined;
          const left = (perIdentity.get(s.identity) ?? 1) - 1;
          if (left > 0) perIdentity.set(s.identity, left);
          else perIdentity.delete(s.identity);
          if (open.size === 0 && o.onActive) active = o.onActive(false).catch((err: unknown) => o.log.warn({ err }, 'live updates: could not stop listening'));
        },
      };
    },
    caseChanged(change) {
      const data: CaseUpdate = { resignationId: change.resignationId, status: change.status, updatedAt: change.updatedAt };
      for (const s of open) if (s.readsCase(change.employeeId)) safely(s, 'case', data);
    },
    deadLettered(letter) {
      for (const s of open) if (s.readsDeadLetters) safely(s, 'dead-letter', letter);
    },
    deadLettersWantedSince: () => operatorsSince,
    size: () => open.size,
    closeAll() {
      for (const fn of closers) fn();
    },
    onCloseAll(fn) {
      closers.add(fn);
    },
  };
}
