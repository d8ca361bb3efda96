import { PageQuerySchema, ProblemSchema, type App } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import { z } from 'zod';
import { Webhook, WebhookList, WebhookPaths } from '../api.ts';
import type { WebhooksDb } from '../db/webhooks.db.ts';
import { getWebhook, listWebhooks } from './read-webhooks.ts';

export function registerReadWebhooksRoutes(app: App, db: WebhooksDb): void {
  app.get(
    WebhookPaths.webhooks,
    {
      schema: {
        operationId: 'listWebhooks', tags: ['webhooks'],
        summary: 'List the registered webhooks (without their secrets)',
        querystring: PageQuerySchema,
        response: { 200: WebhookList, 400: ProblemSchema },
      },
    },
    async (req) => listWebhooks(db, req.query),
  );
  app.get(
    '/api/webhooks/:id',
    {
      schema: {
        operationId: 'getWebhook', tags: ['webhooks'],
        summary: 'One webhook (without its secret)',
        params: z.object({ id: Uuid }),
        response: { 200: Webhook, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getWebhook(db, req.params.id),
  );
}
