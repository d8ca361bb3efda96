import { ProblemSchema, type App } from '@ems/platform';
import { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { InterviewParams } from '../interviews/idempotency.http.ts';
import { getInterview, listInterviews } from './read-interviews.ts';
import { interviewView, requireVisibleInterview } from '../interviews/interview-access.ts';

export function registerReadInterviewsRoutes(app: App, ctx: HrContext): void {
  app.get(
    hr.HrPaths.interviews,
    {
      schema: {
        operationId: 'listInterviews',
        tags: ['hr'],
        summary: 'List exit interviews, oldest first (filter by resignation, HR partner, status, or a start window from/to — then earliest first)',
        querystring: hr.InterviewListQuery,
        response: { 200: hr.InterviewList, 400: ProblemSchema },
      },
    },
    async (req) => {
      const page = await listInterviews(ctx, { ...req.query, employeeIds: req.permit.employeeIds });
      return { ...page, items: page.items.map((i) => interviewView(i, req.permit.viewOf(i.employeeId) ?? 'summary')) };
    },
  );
  app.get(
    '/api/interviews/:id',
    {
      schema: {
        operationId: 'getInterview',
        tags: ['hr'],
        summary: 'One exit interview',
        params: InterviewParams,
        response: { 200: hr.Interview, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => {
      const view = await requireVisibleInterview(ctx, req.permit, req.params.id);
      return interviewView(await getInterview(ctx, req.params.id), view);
    },
  );
}
