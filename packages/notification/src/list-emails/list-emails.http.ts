import type { App } from '@ems/platform';
import { ProblemSchema } from '@ems/platform';
import { notification as api } from '@ems/contracts';
import type { NotificationContext } from '../notification.context.ts';
import { listEmails } from './list-emails.ts';

export function listEmailsRoute(ctx: NotificationContext) {
  return async (app: App): Promise<void> => {
    app.get(
      api.NotificationPaths.emails,
      {
        schema: {
          operationId: 'listEmails', tags: ['notification'],
          summary: 'List emails, newest first',
          querystring: api.EmailListQuery,
          response: { 200: api.EmailList, 400: ProblemSchema },
        },
      },
      async (req) => listEmails(ctx, req.query),
    );
  };
}
