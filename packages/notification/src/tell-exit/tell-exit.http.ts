import { z } from 'zod';
import { ProblemSchema, type App } from '@ems/platform';
import { notification as api, StorableLine } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { tellExit } from './tell-exit.ts';

const Headers = z.looseObject({
  'x-correlation-id': StorableLine.max(200).optional().describe("The batch's correlation id, carried into exitNoticesSent and the emails"),
  traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the event'),
});

/**
 * The orchestrator's command: tell one chunk's people whose access Access reported suspended. Idempotent
 * by (batchId, chunk) — the body is the key, so no Idempotency-Key — and per (case, recipient).
 */
export function tellExitRoute(ctx: NotificationContext, caseUrl: ((resignationId: string) => string) | undefined) {
  return async (app: App): Promise<void> => {
    app.post(
      api.NotificationPaths.exitNotices,
      {
        schema: {
          operationId: 'sendExitNotices',
          tags: ['notification'],
          summary: 'Tell the employees of a chunk of involuntary exits, and their managers, that their access is suspended (idempotent per batch and chunk)',
          description:
            'Only the people Access reported suspended: the notice says so. Queues one email to each employee and one to their manager (if any) ' +
            'in one transaction with exitNoticesSent; delivery is the outbox\'s (retried with backoff). A person whose notice cannot be rendered ' +
            '(an unknown time zone) is listed in `failed`; a repeat answers what the first call did.',
          headers: Headers,
          body: api.SendExitNoticesRequest,
          response: { 200: api.SendExitNoticesAnswer, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 503: ProblemSchema },
        },
      },
      async (req) => {
        const { outcome } = await tellExit(ctx, req.body, { trace: traceContextFromHeaders(req.headers), caseUrl });
        return outcome;
      },
    );
  };
}
