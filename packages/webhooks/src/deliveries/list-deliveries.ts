import { notFound, paged } from '@ems/platform';
import type { WebhookDeliveryList, WebhookDeliveryListQuery } from '../api.ts';
import type { WebhooksDb } from '../db/webhooks.db.ts';
import { toDelivery } from '../read-webhooks/webhook.view.ts';

/** Delivery attempts of one webhook, oldest first; also for a deleted webhook (its history stays). */
export async function listDeliveries(db: WebhooksDb, webhookId: string, query: WebhookDeliveryListQuery): Promise<WebhookDeliveryList> {
  const webhook = await db.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
  if (!webhook) throw notFound(`No webhook ${webhookId}`);
  let q = db.selectFrom('deliveries').selectAll().where('webhook_id', '=', webhookId);
  if (query.eventId) q = q.where('event_id', '=', query.eventId);
  if (query.outcome) q = q.where('outcome', '=', query.outcome);
  const rows = await q.orderBy('id').limit(query.limit + 1).offset(query.offset).execute();
  const page = paged(rows, query);
  return { items: page.items.map(toDelivery), nextOffset: page.nextOffset };
}
