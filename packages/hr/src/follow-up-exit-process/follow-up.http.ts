import { HttpProblem, ProblemSchema, ServiceCallError, type App } from '@ems/platform';
import { hr, IDEMPOTENCY_HEADER, IdempotencyKey } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { HrContext } from '../hr.context.ts';
import { EventCauseHeaders } from '../interviews/idempotency.http.ts';
import { recordSubmission } from '../interviews/exit-case.ts';
import { followUpIfDue, type FollowUpDeps } from './follow-up-exit-process.ts';
import { readFollowUps } from './follow-up-timer.ts';

/**
 * The orchestrator's command for a follow-up whose deadline passed: the same use case as HR's own timer in
 * choreography (followUpIfDue). The orchestrator keeps only the timing; HR decides with its facts, sends, records.
 */
export function registerFollowUpRoute(app: App, ctx: HrContext, deps: FollowUpDeps): void {
  app.post(
    hr.HrPaths.followUps,
    {
      schema: {
        operationId: 'followUpExitProcess',
        tags: ['hr'],
        summary: "A follow-up whose deadline passed: HR sends it (reminder to the HR partner, escalation to the HR lead) if it finds it still due",
        description:
          "The orchestrator's command; in choreography HR's own timer runs the same use case. HR judges with its own facts — the " +
          'interview booked or held, the decision, the follow-ups already recorded — and answers sent (with the email), skipped ' +
          '(recorded without an email: nobody to send it to, or Notification refused it) or not due (why). Each follow-up is sent ' +
          'and recorded once per case: a repeat, whatever its Idempotency-Key, answers what was recorded first.',
        headers: EventCauseHeaders.extend({ [IDEMPOTENCY_HEADER]: IdempotencyKey }),
        body: hr.FollowUpRequest,
        response: { 200: hr.FollowUpAnswer, 400: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req) => {
      const r = req.body;
      const trace = traceContextFromHeaders(req.headers);
      // The instant first, then the facts (as HR's timer does). Due by the caller's instant or HR's, whichever is
      // later: the caller waited for it, and a clock a few milliseconds behind must not turn it away.
      const at = new Date(Math.max(ctx.clock.now().getTime(), Date.parse(r.dueAt)));
      // What HR may not have heard of (no submission event reaches it in orchestration): recorded once.
      await ctx.db.transaction().execute((trx) =>
        recordSubmission(trx, {
          resignationId: r.resignationId,
          employeeId: r.employee.id,
          employeeName: r.employee.name,
          hrPartnerId: r.hrPartnerId,
          submittedAt: new Date(r.submittedAt),
          correlationId: trace.correlationId ?? r.resignationId,
          traceparent: trace.traceparent ?? null,
        }),
      );
      const c = await readFollowUps(ctx.db, r.resignationId);
      if (!c) throw new Error(`the case ${r.resignationId} was just recorded, yet is not there`);
      try {
        return await followUpIfDue(ctx, deps, c, { milestone: r.milestone, level: r.level }, at);
      } catch (err) {
        // Notification unavailable: nothing recorded, the caller asks again (same follow-up, same email key) — a 503, not a defect's 500.
        if (err instanceof ServiceCallError && err.retryable) throw new HttpProblem(503, `The follow-up was not sent yet: ${err.message}`.slice(0, 2000));
        throw err;
      }
    },
  );
}
