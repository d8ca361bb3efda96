import { ProblemSchema, type App } from '@ems/platform';
import { hr } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { EventCauseHeaders, InterviewParams } from '../interviews/idempotency.http.ts';
import { markInterviewHeld } from './mark-interview-held.ts';
import { interviewView, requireVisibleInterview } from '../interviews/interview-access.ts';

export function registerMarkInterviewHeldRoute(app: App, ctx: HrContext): void {
  app.post(
    '/api/interviews/:id/held',
    {
      schema: {
        operationId: 'markInterviewHeld',
        tags: ['hr'],
        summary: 'Mark the exit interview as held, with the notes of the conversation (again: nothing changes but the notes, when given)',
        headers: EventCauseHeaders,
        params: InterviewParams,
        body: hr.MarkInterviewHeldRequest.nullish().describe("Optional: no body means no notes"),
        response: { 200: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema },
      },
    },
    async (req) => {
      const view = await requireVisibleInterview(ctx, req.permit, req.params.id);
      return interviewView(await markInterviewHeld(ctx, req.params.id, req.body ?? {}, traceContextFromHeaders(req.headers)), view);
    },
  );
}
