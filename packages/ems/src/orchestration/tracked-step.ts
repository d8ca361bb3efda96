import { DBOS } from '@dbos-inc/dbos-sdk';
import { ServiceCallError } from '@ems/platform';
import type { CaseStore } from '../resignations/case-store.ts';
import type { StepName } from '../domain/resignation.ts';

export interface RetryPolicy {
  maxAttempts: number;
  retryIntervalMs: number;
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

/**
 * One durable step of the case: calls a participant, retried with exponential backoff while the
 * failure is retryable; records its own success (and each failed attempt) on the case. A final
 * failure is returned, for the workflow to record in a fixed order.
 */
export async function trackedStep(store: CaseStore, retry: RetryPolicy, caseId: string, step: StepName, act: () => Promise<Reaction>, name: string = step): Promise<StepOutcome> {
  let attempts = 0;
  try {
    const result = await DBOS.runStep(
      async () => {
        attempts++;
        try {
          const outcome = await act();
          await store.recordStepDone(caseId, step, { ...outcome, attempts });
          return outcome.result;
        } catch (err) {
          if (isRetryable(err) && attempts < retry.maxAttempts) await store.recordAttemptFailed(caseId, step, attempts, message(err));
          throw err;
        }
      },
      {
        name,
        retriesAllowed: true,
        maxAttempts: retry.maxAttempts,
        intervalSeconds: retry.retryIntervalMs / 1000,
        backoffRate: 2,
        shouldRetry: isRetryable,
      },
    );
    return { step, error: null, attempts, result };
  } catch (err) {
    return { step, error: message(err), attempts, result: null };
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
