import { z } from 'zod';
import { ProblemSchema, type App } from '@ems/platform';
import { Uuid, notification as api } from '@ems/contracts';
import type { NotificationContext } from '../notification.context.ts';
import { getEmail } from './get-email.ts';

export function getEmailRoute(ctx: NotificationContext) {
  return async (app: App): Promise<void> => {
    app.get(
      `${api.NotificationPaths.emails}/:id`,
      {
        schema: {
          operationId: 'getEmail', tags: ['notification'],
          summary: 'One email and its delivery status',
          params: z.object({ id: Uuid }),
          response: { 200: api.Email, 400: ProblemSchema, 404: ProblemSchema },
        },
      },
      async (req) => getEmail(ctx, req.params.id),
    );
  };
}
