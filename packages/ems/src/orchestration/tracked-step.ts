import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError } from '@ems/platform';
import type { CaseStore } from '../resignations/case-store.ts';
import type { StepName } from '../domain/resignation.ts';

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
}

export interface StepOutcome {
  step: StepName;
  error: string | null;
  attempts: number;
  result: Record<string, unknown> | null;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ServiceCallError ? err.retryable : true;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What one attempt came to, as plain data: DBOS checkpoints it, and a replay sees the same. */
type Attempt = { ok: true; result: Record<string, unknown> } | { ok: false; error: string; retryable: boolean };

/** The delay before attempt n+1: exponential from `retryIntervalMs`, capped at `maxIntervalMs`. */
export function retryDelayMs(retry: RetryPolicy, attempt: number): number {
  return Math.min(retry.maxIntervalMs, retry.retryIntervalMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * One durable step of the case: calls a participant; a retryable failure is recorded on the case and
 * retried after a durable sleep (exponential backoff, capped — a service back after an outage is
 * called again within `maxIntervalMs`, not after an ever-doubling wait). Records its own success; a
 * final failure is returned, for the workflow to record in a fixed order.
 */
export async function trackedStep(store: CaseStore, retry: RetryPolicy, caseId: string, step: StepName, act: () => Promise<Reaction>, name: string = step): Promise<StepOutcome> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await DBOS.runStep(
      async (): Promise<Attempt> => {
        try {
          const reaction = await act();
          await store.recordStepDone(caseId, step, { ...reaction, attempts: attempt });
          return { ok: true, result: reaction.result };
        } catch (err) {
          return { ok: false, error: message(err), retryable: isRetryable(err) };
        }
      },
      { name: `${name}#${attempt}` },
    );
    if (outcome.ok) return { step, error: null, attempts: attempt, result: outcome.result };
    if (!outcome.retryable || attempt >= retry.maxAttempts) return { step, error: outcome.error, attempts: attempt, result: null };
    await DBOS.runStep(() => store.recordAttemptFailed(caseId, step, attempt, outcome.error), { name: `${name}#${attempt}.failed` });
    await DBOS.sleep(retryDelayMs(retry, attempt));
  }
}

/**
 * A step that must happen eventually (e.g. a follow-up email): retried until it succeeds, with the
 * same capped backoff; each failure is logged. Never throws, so it never ends the workflow.
 */
export async function untilDone<T>(name: string, retry: RetryPolicy, fn: () => Promise<T>, onFailure: (error: string, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await DBOS.runStep(
      async (): Promise<{ ok: true; value: T } | { ok: false; error: string }> => {
        try {
          return { ok: true, value: await fn() };
        } catch (err) {
          return { ok: false, error: message(err) };
        }
      },
      { name: `${name}#${attempt}` },
    );
    if (outcome.ok) return outcome.value;
    onFailure(outcome.error, attempt);
    await DBOS.sleep(retryDelayMs(retry, attempt));
  }
}

/** Final failures recorded in a fixed order (deterministic on replay), then the case status settled. */
export async function recordOutcomes(store: CaseStore, caseId: string, outcomes: readonly StepOutcome[], settleName: string): Promise<string> {
  for (const o of outcomes) {
    if (o.error !== null) {
      const error = o.error;
      await DBOS.runStep(() => store.recordStepFailed(caseId, o.step, error, o.attempts), { name: `recordFailure.${o.step}` });
    }
  }
  return DBOS.runStep(() => store.settle(caseId), { name: settleName });
}
