import { isUniqueViolation, ProblemSchema, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER, IdempotencyKey } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { EventCauseHeaders, InterviewParams } from '../interviews/idempotency.http.ts';
import { httpCause } from '../interviews/event-cause.ts';
import { interviewForKey, rememberKey, type IdempotencyKey as Key } from '../interviews/idempotency.ts';
import { cancelInterview } from './cancel-interview.ts';
import { cancelInterviewOnClose } from './cancel-interview-on-close.ts';
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
  registerCaseClosureRoute(app, ctx);
}

/** The orchestrator's command for a retained or withdrawn case: the same use case as cancel-interview-when-resignation-closed. */
function registerCaseClosureRoute(app: App, ctx: HrContext): void {
  app.post(
    hr.HrPaths.caseClosures,
    {
      schema: {
        operationId: 'cancelInterviewOnClose',
        tags: ['hr'],
        summary: "A retained or withdrawn case: record it and cancel its exit interview still scheduled (METHOD:CANCEL to everyone)",
        description:
          "The orchestrator's command; choreography's retained / withdrawn events run the same use case. Answers what was cancelled, " +
          'or why nothing was (skipped: no interview, already held, already cancelled). A repeat with the same Idempotency-Key answers ' +
          'the first result.',
        headers: EventCauseHeaders.extend({ [IDEMPOTENCY_HEADER]: IdempotencyKey }),
        body: hr.CaseClosureRequest,
        response: { 200: hr.CaseClosure, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req) => {
      const { resignationId, decision, decidedAt } = req.body;
      const key: Key = { key: req.headers[IDEMPOTENCY_HEADER], operation: 'cancel', fingerprint: JSON.stringify(['close', resignationId, decision]) };
      // A repeat of a closure that cancelled the interview answers that (the interview now reads "already cancelled").
      const repeat = await interviewForKey(ctx.db, key);
      if (repeat) return { resignationId, interviewId: repeat.id, cancelled: true, skipped: null };
      try {
        const done = await ctx.db.transaction().execute(async (trx) => {
          const closed = await cancelInterviewOnClose(ctx, trx, { resignationId, decision, decidedAt: new Date(decidedAt) }, httpCause(resignationId, traceContextFromHeaders(req.headers)));
          if (closed.closure.cancelled && closed.closure.interviewId) await rememberKey(trx, key, closed.closure.interviewId, ctx.clock.now());
          return closed;
        });
        await ctx.invites.deliverNow(done.queued);
        return done.closure;
      } catch (err) {
        if (isUniqueViolation(err)) {
          const winner = await interviewForKey(ctx.db, key);
          if (winner) return { resignationId, interviewId: winner.id, cancelled: true, skipped: null };
        }
        throw err;
      }
    },
  );
}
