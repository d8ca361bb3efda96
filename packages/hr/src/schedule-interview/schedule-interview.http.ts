import { z } from 'zod';
import { ProblemSchema, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { IdempotencyHeaders } from '../interviews/idempotency.http.ts';
import { httpCause } from './schedule-interview.events.ts';
import { scheduleInterview } from './schedule-interview.ts';

const ScheduleHeaders = IdempotencyHeaders.extend({
  'x-correlation-id': z.string().max(200).optional().describe("The case's correlation id, carried by the exit-interview-scheduled event (default: the resignation id)"),
  traceparent: z.string().max(200).optional().describe('W3C trace context the event continues (ignored when malformed)'),
});

export function registerScheduleInterviewRoute(app: App, ctx: HrContext): void {
  app.post(
    hr.HrPaths.interviews,
    {
      schema: {
        tags: ['hr'],
        summary: "Book the exit interview in the HR partner's earliest free slot and send the calendar invites (idempotent per resignation)",
        headers: ScheduleHeaders,
        body: hr.ScheduleInterviewRequest,
        response: { 200: hr.Interview, 201: hr.Interview, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { interview, created } = await scheduleInterview(ctx, req.body, {
        idempotencyKey: req.headers[IDEMPOTENCY_HEADER],
        cause: httpCause(req.body.resignationId, traceContextFromHeaders(req.headers)),
      });
      return reply.status(created ? 201 : 200).send(interview);
    },
  );
}
