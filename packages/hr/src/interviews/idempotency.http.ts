import { IDEMPOTENCY_HEADER, IdempotencyKey, StorableLine } from '@ems/contracts';
import { z } from 'zod';

export const IdempotencyHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: IdempotencyKey.optional().describe('A repeat with the same key changes nothing and answers the original result'),
});

export const InterviewParams = z.object({ id: z.uuid() });

/** What an event published by the request continues: the case's correlation id and the caller's trace. */
export const EventCauseHeaders = IdempotencyHeaders.extend({
  'x-correlation-id': StorableLine.max(200).optional().describe("The case's correlation id, carried by the event the change publishes (default: the resignation id)"),
  traceparent: StorableLine.max(200).optional().describe('W3C trace context the event continues (ignored when malformed)'),
});
