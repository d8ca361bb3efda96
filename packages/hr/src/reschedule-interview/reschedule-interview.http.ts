import { ProblemSchema, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { IdempotencyHeaders, InterviewParams } from '../interviews/idempotency.http.ts';
import { rescheduleInterview } from './reschedule-interview.ts';
import { interviewView, requireVisibleInterview } from '../interviews/interview-access.ts';

export function registerRescheduleInterviewRoute(app: App, ctx: HrContext): void {
  app.post(
    '/api/interviews/:id/reschedule',
    {
      schema: {
        operationId: 'rescheduleInterview',
        tags: ['hr'],
        summary: 'Move a scheduled interview to a given free slot, or to the next free one; sends updated invites (SEQUENCE + 1)',
        headers: IdempotencyHeaders,
        params: InterviewParams,
        body: hr.RescheduleInterviewRequest,
        response: { 200: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req) => {
      const view = await requireVisibleInterview(ctx, req.permit, req.params.id);
      return interviewView(await rescheduleInterview(ctx, req.params.id, req.body, req.headers[IDEMPOTENCY_HEADER]), view);
    },
  );
}
