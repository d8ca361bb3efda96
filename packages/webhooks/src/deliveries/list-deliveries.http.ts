import { ProblemSchema, type App } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import { z } from 'zod';
import { WebhookDeliveryList, WebhookDeliveryListQuery } from '../api.ts';
import type { WebhooksDb } from '../db/webhooks.db.ts';
import { listDeliveries } from './list-deliveries.ts';

export function registerListDeliveriesRoute(app: App, db: WebhooksDb): void {
  app.get(
    '/api/webhooks/:id/deliveries',
    {
      schema: {
        operationId: 'listWebhookDeliveries', tags: ['webhooks'],
        summary: 'Delivery attempts of a webhook: status code, error, and whether the event was dead-lettered',
        params: z.object({ id: Uuid }),
        querystring: WebhookDeliveryListQuery,
        response: { 200: WebhookDeliveryList, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => listDeliveries(db, req.params.id, req.query),
  );
}
