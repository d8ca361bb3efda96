import { HttpProblem } from '@ems/platform';
import { hr } from '@ems/contracts';
import type { HrDb, HrTx } from '../db/hr.db.ts';
import type { InterviewRow } from './interview.view.ts';

export type Operation = 'schedule' | 'reschedule' | 'cancel';

export interface IdempotencyKey {
  key: string;
  operation: Operation;
  /** What the request asked for; the same key with a different request is refused, not replayed. */
  fingerprint: string;
}

/** The interview a request with this Idempotency-Key already acted on, or undefined for a new key. */
export async function interviewForKey(db: HrDb | HrTx, key: IdempotencyKey | undefined): Promise<InterviewRow | undefined> {
  if (!key) return undefined;
  const seen = await db.selectFrom('idempotency_keys').select(['operation', 'fingerprint', 'interview_id']).where('key', '=', key.key).executeTakeFirst();
  if (!seen) return undefined;
  assertSameRequest(seen, key);
  return db.selectFrom('interviews').selectAll().where('id', '=', seen.interview_id).executeTakeFirstOrThrow();
}

/** 422 when a key already seen was used for a different request: refused, not replayed. */
export function assertSameRequest(seen: { operation: string; fingerprint: string }, key: IdempotencyKey): void {
  if (seen.operation !== key.operation || seen.fingerprint !== key.fingerprint) {
    throw new HttpProblem(422, 'This Idempotency-Key was already used for a different request', {
      type: hr.HrProblemTypes.idempotencyKeyReused,
    });
  }
}

/** Records the key in the transaction that did the work; a concurrent twin then fails on the primary key. */
export async function rememberKey(trx: HrTx, key: IdempotencyKey | undefined, interviewId: string, now: Date): Promise<void> {
  if (!key) return;
  await trx
    .insertInto('idempotency_keys')
    .values({ key: key.key, operation: key.operation, fingerprint: key.fingerprint, interview_id: interviewId, created_at: now })
    .execute();
}
