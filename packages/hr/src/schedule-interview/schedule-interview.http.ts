import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { EventCauseHeaders } from '../interviews/idempotency.http.ts';
import { httpCause } from '../interviews/event-cause.ts';
import { scheduleInterview } from './schedule-interview.ts';

export function registerScheduleInterviewRoute(app: App, ctx: HrContext, cases: CaseLookup): void {
  app.post(
    hr.HrPaths.interviews,
    {
      schema: {
        operationId: 'scheduleInterview',
        tags: ['hr'],
        summary: "Book the exit interview in the HR partner's earliest free slot and send the calendar invites (idempotent per resignation)",
        headers: EventCauseHeaders,
        body: hr.ScheduleInterviewRequest,
        response: { 200: hr.Interview, 201: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req, reply) => {
      // Only for a real case, and only its employee's (EMS says so): the orchestrator's token alone is not enough.
      await requireCase(cases, req.body.resignationId, req.body.employeeId);
      const { interview, created } = await scheduleInterview(ctx, req.body, {
        idempotencyKey: req.headers[IDEMPOTENCY_HEADER],
        cause: httpCause(req.body.resignationId, traceContextFromHeaders(req.headers)),
      });
      return reply.status(created ? 201 : 200).send(interview);
    },
  );
}
