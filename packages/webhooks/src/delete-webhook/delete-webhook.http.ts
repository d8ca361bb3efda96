import { ProblemSchema, type App } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import { z } from 'zod';
import type { WebhooksContext } from '../webhooks.context.ts';
import { deleteWebhook } from './delete-webhook.ts';

export function registerDeleteWebhookRoute(app: App, ctx: WebhooksContext): void {
  app.delete(
    '/api/webhooks/:id',
    {
      schema: {
        operationId: 'deleteWebhook', tags: ['webhooks'],
        summary: 'Delete a webhook: deliveries stop (idempotent)',
        params: z.object({ id: Uuid }),
        response: { 204: z.null().describe('Deleted'), 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req, reply) => {
      await deleteWebhook(ctx, req.params.id);
      return reply.status(204).send(null);
    },
  );
}
