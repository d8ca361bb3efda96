import { refuse } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import { toEmail } from '../email.mapper.ts';
import type { NotificationContext } from '../notification.context.ts';

export async function getEmail(ctx: NotificationContext, id: string): Promise<api.Email> {
  const row = await ctx.db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw refuse.notFound(`No email ${id}`);
  return toEmail(row);
}
