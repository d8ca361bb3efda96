import { z } from 'zod';
import { preferredWaitSeconds, refuse, type Refusal } from '@ems/platform';
import { IDEMPOTENCY_HEADER, IdempotencyKey, StorableLine } from '@ems/contracts';
import type { NotificationContext } from '../notification.context.ts';
import { MAX_PREFERRED_WAIT_S } from './send-email.http.ts';

/** Headers of the orchestrator's commands: the key of the step, the case's correlation and trace, how long to wait. */
export const CommandHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: IdempotencyKey.describe('The step asking; a repeat finds what the first request stored and sends nothing more'),
  'x-correlation-id': StorableLine.max(200).optional().describe("The case's correlation id, carried into the outcome events"),
  traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the outcome events'),
  prefer: StorableLine.max(200).optional().describe(`RFC 7240; wait=N: wait up to N seconds (at most ${MAX_PREFERRED_WAIT_S}) for the delivery before answering`),
});

export function waitMsOf(ctx: NotificationContext, prefer: string | undefined): number {
  const wait = preferredWaitSeconds(prefer);
  return wait === undefined ? ctx.fastPathTimeoutMs : Math.min(wait, MAX_PREFERRED_WAIT_S) * 1000;
}

/** A notice that cannot be rendered: invalid facts, refused like any invalid body (retrying cannot help). */
export function unrenderable(reason: string): Refusal {
  return refuse.invalid(reason);
}

