import { notFound } from '@ems/platform';
import type { WebhooksContext } from '../webhooks.context.ts';

/**
 * Deletes a webhook: no further deliveries. The row stays (marked deleted) so its delivery history
 * can still be read. Deleting a deleted webhook changes nothing.
 *
 * The mark is what stops deliveries — every delivery checks it first, on any replica — and the bus
 * subscription is removed too, so no new events queue up for it.
 */
export async function deleteWebhook(ctx: WebhooksContext, webhookId: string): Promise<void> {
  const deleted = await ctx.db
    .updateTable('webhooks')
    .set({ deleted_at: ctx.clock.now() })
    .where('id', '=', webhookId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!deleted) {
    const exists = await ctx.db.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
    if (!exists) throw notFound(`No webhook ${webhookId}`);
  }
  try {
    // Also on a repeat: a subscription a failed earlier attempt left behind goes now.
    await ctx.subscriptions.remove(webhookId);
  } catch (err) {
    ctx.log.warn({ err, webhookId }, 'could not unsubscribe a deleted webhook; its deliveries are skipped anyway');
  }
  if (deleted) ctx.log.info({ webhookId }, 'webhook deleted');
}
