import { paged } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { toEmail } from '../email.mapper.ts';
import type { NotificationContext } from '../notification.context.ts';

/** The emails matching the filters, newest first. */
export async function listEmails(ctx: NotificationContext, query: api.EmailListQuery): Promise<api.EmailList> {
  let q = ctx.db.selectFrom('emails').selectAll();
  if (query.resignationId) q = q.where('resignation_id', '=', query.resignationId);
  if (query.status) q = q.where('status', '=', query.status);
  if (query.to) {
    const to = query.to;
    q = q.where((eb) => eb(eb.fn('lower', ['recipient']), '=', eb.fn('lower', [eb.val(to)])));
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .offset(query.offset)
    .execute();
  const page = paged(rows, query);
  return { items: page.items.map(toEmail), nextOffset: page.nextOffset };
}
