import { ProblemSchema, type App } from '@ems/platform';
import { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { InterviewParams } from '../interviews/idempotency.http.ts';
import { getInterview, listInterviews } from './read-interviews.ts';

export function registerReadInterviewsRoutes(app: App, ctx: HrContext): void {
  app.get(
    hr.HrPaths.interviews,
    {
      schema: {
        tags: ['hr'],
        summary: 'List exit interviews, oldest first (filter by resignation or HR partner)',
        querystring: hr.InterviewListQuery,
        response: { 200: hr.InterviewList, 400: ProblemSchema },
      },
    },
    async (req) => listInterviews(ctx, req.query),
  );
  app.get(
    '/api/interviews/:id',
    {
      schema: {
        tags: ['hr'],
        summary: 'One exit interview',
        params: InterviewParams,
        response: { 200: hr.Interview, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getInterview(ctx, req.params.id),
  );
}
