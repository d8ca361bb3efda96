import { IDEMPOTENCY_HEADER } from '@ems/contracts';
import { z } from 'zod';

export const IdempotencyHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: z.string().min(1).max(200).optional().describe('A repeat with the same key changes nothing and answers the original result'),
});

export const InterviewParams = z.object({ id: z.uuid() });
