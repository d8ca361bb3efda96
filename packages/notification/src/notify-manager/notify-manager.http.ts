import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { notification as api } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { toEmail } from '../email.mapper.ts';
import { CommandHeaders, unrenderable, waitMsOf } from '../send-email/command.http.ts';
import { notifyManager } from './notify-manager.ts';

/** The orchestrator's command for the manager notice: the same use case as notify-manager-when-resignation-submitted. */
export function notifyManagerRoute(ctx: NotificationContext, cases: CaseLookup, caseUrl: ((resignationId: string) => string) | undefined) {
  return async (app: App): Promise<void> => {
    app.post(
      api.NotificationPaths.managerNotices,
      {
        schema: {
          operationId: 'notifyManager',
          tags: ['notification'],
          summary: "Tell a resigning employee's manager (once per case)",
          description:
            "The orchestrator's command; choreography's resignationSubmitted runs the same use case. No manager: nothing is sent " +
            'and managerNotified says skipped. Otherwise the notice is stored once per case and delivered; the answer carries its ' +
            'status (sent, queued — delivery goes on, ask again with the same key —, or failed). Only for a real case of that employee.',
          headers: CommandHeaders,
          body: api.NotifyManagerRequest,
          response: { 200: api.ManagerNoticeOutcome, 400: ProblemSchema, 404: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
        },
      },
      async (req, reply) => {
        await requireCase(cases, req.body.resignationId, req.body.employee.id);
        const notice = await notifyManager(ctx, req.body, {
          caseUrl: caseUrl ? caseUrl(req.body.resignationId) : null,
          origin: traceContextFromHeaders(req.headers),
          waitMs: waitMsOf(ctx, req.headers.prefer),
        });
        switch (notice.outcome) {
          case 'stored':
            return reply.send({ outcome: 'email', email: toEmail(notice.email) });
          case 'no manager':
            return reply.send({ outcome: 'no manager', emailId: notice.emailId });
          case 'unrenderable':
            throw unrenderable(notice.reason);
          case 'skipped':
            throw new Error('notify-manager: no adapter check was given, yet it skipped');
        }
      },
    );
  };
}
