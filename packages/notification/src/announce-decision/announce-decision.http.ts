import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { notification as api } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { toEmail } from '../email.mapper.ts';
import { CommandHeaders, unrenderable, waitMsOf } from '../send-email/command.http.ts';
import { announceDecision } from './announce-decision.ts';

/** The orchestrator's command for the decision notices: the same use case as announce-decision-when-decided. */
export function announceDecisionRoute(ctx: NotificationContext, cases: CaseLookup, caseUrl: ((resignationId: string) => string) | undefined) {
  return async (app: App): Promise<void> => {
    app.post(
      api.NotificationPaths.decisionAnnouncements,
      {
        schema: {
          operationId: 'announceDecision',
          tags: ['notification'],
          summary: 'Tell the manager (if any) and the employee how a resignation was decided (once per decision and revision)',
          description:
            "The orchestrator's command; choreography's decision events run the same use case. The notices are stored once per " +
            '(case, decision, revision, person) and delivered; the answer says announced (all sent), pending (one still queued: ' +
            'delivery goes on, ask again with the same key), failed (one given up, with the reason) or overtaken (a newer exit ' +
            'confirmation was announced already). decisionAnnounced / decisionAnnouncementFailed follow as in choreography.',
          headers: CommandHeaders,
          body: api.AnnounceDecisionRequest,
          response: { 200: api.DecisionAnnouncementOutcome, 400: ProblemSchema, 404: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
        },
      },
      async (req, reply) => {
        const body = req.body;
        await requireCase(cases, body.resignationId);
        const announced = await announceDecision(
          ctx,
          { ...body, lastWorkingDay: body.lastWorkingDay ?? undefined, revokeAt: body.revokeAt ?? undefined },
          { caseUrl: caseUrl ? caseUrl(body.resignationId) : null, origin: traceContextFromHeaders(req.headers), waitMs: waitMsOf(ctx, req.headers.prefer) },
        );
        switch (announced.outcome) {
          case 'stored': {
            const emails = announced.emails.map(toEmail);
            const failed = emails.filter((e) => e.status === 'failed');
            if (failed.length > 0) {
              const reason = failed.map((e) => `the decision notice to ${e.to} could not be delivered: ${e.lastError ?? 'unknown error'}`).join('; ');
              return reply.send({ outcome: 'failed', emails, reason });
            }
            return reply.send({ outcome: emails.some((e) => e.status === 'queued') ? 'pending' : 'announced', emails, reason: null });
          }
          case 'overtaken':
            return reply.send({ outcome: 'overtaken', emails: [], reason: `a newer exit confirmation (revision ${announced.newer}) was announced already` });
          case 'unrenderable':
            throw unrenderable(announced.reason);
          case 'skipped':
            throw new Error('announce-decision: no adapter check was given, yet it skipped');
        }
      },
    );
  };
}
