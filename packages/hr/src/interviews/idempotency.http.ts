import { IDEMPOTENCY_HEADER } from '@ems/contracts';
import { z } from 'zod';

export const IdempotencyHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: z.string().min(1).max(200).optional().describe('A repeat with the same key changes nothing and answers the original result'),
});

export const InterviewParams = z.object({ id: z.uuid() });

/** What an event published by the request continues: the case's correlation id and the caller's trace. */
export const EventCauseHeaders = IdempotencyHeaders.extend({
  'x-correlation-id': z.string().max(200).optional().describe("The case's correlation id, carried by the event the change publishes (default: the resignation id)"),
  traceparent: z.string().max(200).optional().describe('W3C trace context the event continues (ignored when malformed)'),
});
