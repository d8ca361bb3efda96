import { ProblemSchema, type App } from '@ems/platform';
import { IDEMPOTENCY_HEADER, IdempotencyKey, Uuid } from '@ems/contracts';
import { z } from 'zod';
import { RecoveryTask } from '../api.ts';
import type { AssetsContext } from '../assets.context.ts';
import { completeRecoveryTask } from './complete-recovery-task.ts';

export function registerCompleteRecoveryTaskRoute(app: App, ctx: AssetsContext): void {
  app.post(
    '/api/asset-recovery-tasks/:id/complete',
    {
      schema: {
        operationId: 'completeAssetRecoveryTask', tags: ['assets'],
        summary: 'Mark an asset recovery task done: everything was handed back (idempotent)',
        // Completing is naturally idempotent; the header is accepted for uniformity with other mutations.
        headers: z.looseObject({ [IDEMPOTENCY_HEADER]: IdempotencyKey.optional() }),
        params: z.object({ id: Uuid }),
        response: { 200: RecoveryTask, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => completeRecoveryTask(ctx, req.params.id),
  );
}
