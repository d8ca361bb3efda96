import { ProblemSchema, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { EventCauseHeaders, InterviewParams } from '../interviews/idempotency.http.ts';
import { cancelInterview } from './cancel-interview.ts';
import { interviewView, requireVisibleInterview } from '../interviews/interview-access.ts';

export function registerCancelInterviewRoute(app: App, ctx: HrContext): void {
  app.post(
    '/api/interviews/:id/cancel',
    {
      schema: {
        operationId: 'cancelInterview',
        tags: ['hr'],
        summary: 'Cancel an interview and send METHOD:CANCEL to everyone (cancelling twice changes nothing)',
        headers: EventCauseHeaders,
        params: InterviewParams,
        body: hr.CancelInterviewRequest.nullish(),
        response: { 200: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req) => {
      const view = await requireVisibleInterview(ctx, req.permit, req.params.id);
      return interviewView(await cancelInterview(ctx, req.params.id, req.headers[IDEMPOTENCY_HEADER], traceContextFromHeaders(req.headers), req.body?.reason), view);
    },
  );
}
