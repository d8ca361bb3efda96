import { setTimeout as sleep } from 'node:timers/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { backoffDelay, isTransient, storableText } from '@ems/platform';
import type { CaseStore } from '../resignations/case-store.ts';
import type { CaseStatus, StepName } from '../domain/resignation.ts';

export interface RetryPolicy {
  maxAttempts: number;
  retryIntervalMs: number;
  /** The longest wait between two attempts. */
  maxIntervalMs: number;
}

/** What a participant did, as the case's step records it. */
export interface Reaction {
  result: Record<string, unknown>;
  service: string;
  type: string;
  summary: string;
  /** When the participant did it, when that is not now (e.g. access revoked earlier than the step looked). */
  at?: Date;
}

export interface StepOutcome {
  step: StepName;
  error: string | null;
  attempts: number;
  result: Record<string, unknown> | null;
}

/** Only what retrying can cure is retried (platform's classification): a refusal or invalid data fails the step at once. */
export function isRetryable(err: unknown): boolean {
  return isTransient(err);
}

/** The reason as the case records it: storable, whatever the error quoted (a participant may echo a NUL back). */
export function message(err: unknown): string {
  return storableText(err instanceof Error ? err.message : String(err));
}

/** What a step came to, as plain data: DBOS checkpoints it, and a replay sees the same. */
type Outcome = { ok: true; result: Record<string, unknown>; attempts: number } | { ok: false; error: string; attempts: number };

/** The delay before attempt n+1: exponential from `retryIntervalMs`, capped at `maxIntervalMs`. */
export function retryDelayMs(retry: RetryPolicy, attempt: number): number {
  return backoffDelay(attempt, { baseMs: retry.retryIntervalMs, maxMs: retry.maxIntervalMs });
}

/**
 * One durable step of the case: calls a participant; a transient failure is recorded on the case and
 * tried again after a pause (exponential backoff, capped — a service back after an outage is called
 * again within `maxIntervalMs`). A permanent one (a 4xx refusal, invalid data, a violated constraint:
 * platform's classification) ends the step at once, after one attempt. Records its own success; a
 * final failure is returned, for the workflow to record in a fixed order.
 *
 * The attempts run inside ONE DBOS step, so each branch of a parallel `Promise.all` holds exactly one
 * step number, assigned in call order: a replay sees the same sequence whatever order branches
 * finished in. A crash mid-way reruns the step from its first attempt (every call is idempotent).
 * A transient database error reruns the attempt (DB_RETRIES' schedule, inside the step: DBOS's own
 * retries read the workflow's status once more per attempt, a round trip per step for nothing); a
 * permanent one recording the result (e.g. a reply the database cannot store) fails the step with that
 * reason instead of retrying it.
 */
export async function trackedStep(store: CaseStore, retry: RetryPolicy, caseId: string, step: StepName, act: () => Promise<Reaction>, name: string = step): Promise<StepOutcome> {
  const outcome = await DBOS.runStep(() => withDbRetries(() => attemptStep(store, retry, caseId, step, act)), { name });
  return stepOutcome(step, outcome);
}

/**
 * Several steps of the case run in parallel as plain calls of the workflow — no DBOS step around them: each
 * branch as `trackedStep` runs one, retried, its success recorded on the case the moment it is done. Once every
 * branch has settled, `then` runs with their outcomes, in the order given (e.g. recording the failures and
 * settling the case). For a workflow that does nothing durable after them (the case's reactions workflow,
 * resignation.workflow.ts): DBOS replays a workflow by the sequence of its operations, and here there is none —
 * a crash reruns the workflow from the start, every participant call idempotent (same key, same answer) and
 * every record too. The case's step records (ems.steps) are the checkpoint a reader sees; a DBOS step around
 * them cost ~4 commits per case of bookkeeping (two status reads, its checkpoint read, its transaction) to say
 * the same again (measured: README, "the lean path, thirty-fifth round").
 * A branch's transient database error reruns that branch only, one in `then` reruns `then`; one that outlasts
 * DB_RETRIES fails the workflow once every branch has settled (no branch is left running behind it), as it
 * failed the DBOS step before: the case's steps stay pending, and the sweeper marks them late.
 */
export async function runCaseSteps<T>(
  store: CaseStore,
  retry: RetryPolicy,
  caseId: string,
  branches: ReadonlyArray<{ step: StepName; act: () => Promise<Reaction> }>,
  then: (outcomes: readonly StepOutcome[]) => Promise<T>,
): Promise<T> {
  const settled = await Promise.allSettled(branches.map((b) => withDbRetries(() => attemptStep(store, retry, caseId, b.step, b.act))));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const outcomes = settled.map((s, i) => stepOutcome(branches[i]!.step, (s as PromiseFulfilledResult<Outcome>).value));
  return withDbRetries(() => then(outcomes));
}

/** One step's attempts and, on success, its record on the case; throws only a transient database error. */
async function attemptStep(store: CaseStore, retry: RetryPolicy, caseId: string, step: StepName, act: () => Promise<Reaction>): Promise<Outcome> {
  const tried = await withRetries(retry, act, (attempt, error) => store.recordAttemptFailed(caseId, step, attempt, error));
  if (!tried.ok) return tried;
  try {
    await store.recordStepDone(caseId, step, { ...tried.value, attempts: tried.attempts });
  } catch (err) {
    if (isTransient(err)) throw err;
    return { ok: false, error: `its result could not be recorded: ${message(err)}`, attempts: tried.attempts };
  }
  return { ok: true, result: tried.value.result, attempts: tried.attempts };
}

function stepOutcome(step: StepName, outcome: Outcome): StepOutcome {
  return outcome.ok ? { step, error: null, attempts: outcome.attempts, result: outcome.result } : { step, error: outcome.error, attempts: outcome.attempts, result: null };
}

/**
 * Calls `act` until it succeeds, meets an error retrying cannot cure, or has had `retry.maxAttempts`
 * attempts, pausing with the capped backoff in between (`onRetry` hears of each failure retried). Runs
 * inside the caller's DBOS step: a crash reruns it from the first attempt.
 */
export async function withRetries<T>(
  retry: RetryPolicy,
  act: () => Promise<T>,
  onRetry?: (attempt: number, error: string) => Promise<void>,
): Promise<{ ok: true; value: T; attempts: number } | { ok: false; error: string; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await act(), attempts: attempt };
    } catch (err) {
      if (!isRetryable(err) || attempt >= retry.maxAttempts) return { ok: false, error: message(err), attempts: attempt };
      await onRetry?.(attempt, message(err));
      await sleep(retryDelayMs(retry, attempt));
    }
  }
}

/**
 * For steps that only touch the database: a transient error (pool exhausted, deadlock, lost connection)
 * is retried; a permanent one (invalid data, a violated constraint) is thrown at once — 20 attempts at
 * this rate would take the better part of an hour to give up.
 */
export const DB_RETRIES = { retriesAllowed: true, maxAttempts: 20, intervalSeconds: 0.5, backoffRate: 1.5, shouldRetry: isTransient } as const;

/**
 * A step that must happen eventually (e.g. a follow-up email): retried until it succeeds, with the
 * same capped backoff; each failure is logged. An error retrying cannot cure ends the retries at once
 * (`onPermanent` says what then). Never throws, so it never ends the workflow.
 */
export async function untilDone<T>(
  name: string,
  retry: RetryPolicy,
  fn: () => Promise<T>,
  onFailure: (error: string, attempt: number) => void,
  /** An error retrying cannot cure (a refusal, invalid data): no more attempts — what to go on with instead. */
  onPermanent: (error: string) => T | Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await DBOS.runStep(
      async (): Promise<{ ok: true; value: T } | { ok: false; error: string; permanent: boolean }> => {
        try {
          return { ok: true, value: await fn() };
        } catch (err) {
          return { ok: false, error: message(err), permanent: !isRetryable(err) };
        }
      },
      { name: `${name}#${attempt}` },
    );
    if (outcome.ok) return outcome.value;
    if (outcome.permanent) return onPermanent(outcome.error);
    onFailure(outcome.error, attempt);
    await DBOS.sleep(retryDelayMs(retry, attempt));
  }
}

/**
 * Final failures recorded in a fixed order (deterministic on replay), then the case status settled.
 *
 * Settling is not a checkpointed step: the status follows from the steps, so running it again on a
 * replay writes nothing new and answers the same — and the workflow only returns that answer, it does
 * not branch on it. A step would cost eight more round trips per case (measured) for nothing. Transient
 * database errors are retried here as a step's would be.
 */
export async function recordOutcomes(store: CaseStore, caseId: string, outcomes: readonly StepOutcome[]): Promise<string> {
  for (const o of outcomes) {
    if (o.error !== null) {
      const error = o.error;
      await DBOS.runStep(() => store.recordStepFailed(caseId, o.step, error, o.attempts), { name: `recordFailure.${o.step}`, ...DB_RETRIES });
    }
  }
  return withDbRetries(() => store.settle(caseId));
}

/**
 * `recordOutcomes` without a DBOS step per failure (`runCaseSteps`' `then`): the same records in the same
 * order, as plain calls — a rerun of the workflow makes them all again, and each is idempotent. The case's
 * status once settled.
 */
export async function recordOutcomesPlainly(store: CaseStore, caseId: string, outcomes: readonly StepOutcome[]): Promise<CaseStatus> {
  for (const o of outcomes) if (o.error !== null) await store.recordStepFailed(caseId, o.step, o.error, o.attempts);
  return store.settle(caseId);
}

/** Runs an idempotent call with DB_RETRIES' schedule, retrying only a transient error, without DBOS's bookkeeping per attempt. */
async function withDbRetries<T>(fn: () => Promise<T>): Promise<T> {
  let interval = DB_RETRIES.intervalSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= DB_RETRIES.maxAttempts || !isTransient(err)) throw err;
      await sleep(interval);
      interval *= DB_RETRIES.backoffRate;
    }
  }
}
