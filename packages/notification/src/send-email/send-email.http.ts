import { z } from 'zod';
import { preferredWaitSeconds, ProblemSchema, type App } from '@ems/platform';
import { IDEMPOTENCY_HEADER, IdempotencyKey, notification as api, StorableLine } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { sendEmail } from './send-email.ts';
import { deriveRecipient, type RecipientRules } from './derive-recipient.ts';

/** The longest `Prefer: wait` honoured, in seconds. */
export const MAX_PREFERRED_WAIT_S = 30;

export function sendEmailRoute(ctx: NotificationContext, rules: RecipientRules) {
  return async (app: App): Promise<void> => {
    app.post(
      api.NotificationPaths.emails,
      {
        schema: {
          operationId: 'sendEmail',
          tags: ['notification'],
          summary: 'Send an email (once per resignation, purpose and recipient)',
          description:
            'Only for a real case, and only to the person its purpose names: EMS asks EMS the case and derives the recipient ' +
            "from the directory (the manager for a manager notice; the manager or the employee for a decision notice; the employee " +
            "or the HR partner for an interview invite; the HR partner for a reminder, an HR lead for an escalation) — `to` must be " +
            "that person, and the directory's address and name are used; the only link is the case's own page; attachments only " +
            "with HR's calendar invites (text/calendar). Anything else is 422. " +
            'Renders the named template with `data` and delivers it over SMTP. A repeat of the same (resignationId, purpose, to.email), ' +
            'or of the same Idempotency-Key, answers 200 with the email stored first and sends nothing. A new email answers 201; ' +
            'its status is `sent` when the SMTP server accepted it within the wait, else `queued` (delivery goes on, retried with backoff) or `failed`. ' +
            `The wait is a few seconds; \`Prefer: wait=N\` (RFC 7240) asks for up to N seconds (at most ${MAX_PREFERRED_WAIT_S}) — for a caller ` +
            'that needs the email delivered, one long request instead of polling. A failed SMTP attempt answers at once, `queued` with its lastError.',
          headers: z.object({
            [IDEMPOTENCY_HEADER]: IdempotencyKey.optional(),
            'x-correlation-id': StorableLine.max(200).optional().describe("The case's correlation id, carried into the manager-notice outcome event"),
            traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the manager-notice outcome event'),
            prefer: StorableLine.max(200).optional().describe(`RFC 7240; wait=N: wait up to N seconds (at most ${MAX_PREFERRED_WAIT_S}) for the delivery before answering`),
          }),
          body: api.SendEmailRequest,
          response: { 200: api.Email, 201: api.Email, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
        },
      },
      async (req, reply) => {
        const wait = preferredWaitSeconds(req.headers.prefer);
        const waitMs = wait === undefined ? ctx.fastPathTimeoutMs : Math.min(wait, MAX_PREFERRED_WAIT_S) * 1000;
        const request = await deriveRecipient(rules, req.permit, req.body);
        const { created, email } = await sendEmail(ctx, request, req.headers[IDEMPOTENCY_HEADER], traceContextFromHeaders(req.headers), waitMs);
        if (created) void reply.header('location', api.NotificationPaths.email(email.id));
        return reply.code(created ? 201 : 200).send(email);
      },
    );
  };
}
