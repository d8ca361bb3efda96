import { notFound, paged, type PageQuery } from '@ems/platform';
import type { Webhook, WebhookList } from '../api.ts';
import type { WebhooksDb } from '../db/webhooks.db.ts';
import { toWebhook } from './webhook.view.ts';

/** Live webhooks, oldest first (deleted ones are gone from the API; their deliveries stay readable). */
export async function listWebhooks(db: WebhooksDb, page: PageQuery): Promise<WebhookList> {
  const rows = await db.selectFrom('webhooks').selectAll().where('deleted_at', 'is', null).orderBy('created_at').orderBy('id').limit(page.limit + 1).offset(page.offset).execute();
  const p = paged(rows, page);
  return { items: p.items.map(toWebhook), nextOffset: p.nextOffset };
}

export async function getWebhook(db: WebhooksDb, id: string): Promise<Webhook> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw notFound(`No webhook ${id}`);
  return toWebhook(row);
}
