import { ProblemSchema, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { IdempotencyHeaders } from '../interviews/idempotency.http.ts';
import { scheduleInterview } from './schedule-interview.ts';

export function registerScheduleInterviewRoute(app: App, ctx: HrContext): void {
  app.post(
    hr.HrPaths.interviews,
    {
      schema: {
        tags: ['hr'],
        summary: "Book the exit interview in the HR partner's earliest free slot and send the calendar invites (idempotent per resignation)",
        headers: IdempotencyHeaders,
        body: hr.ScheduleInterviewRequest,
        response: { 200: hr.Interview, 201: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { interview, created } = await scheduleInterview(ctx, req.body, req.headers[IDEMPOTENCY_HEADER]);
      return reply.status(created ? 201 : 200).send(interview);
    },
  );
}
