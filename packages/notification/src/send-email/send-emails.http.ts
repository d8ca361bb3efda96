import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App, type CaseLookup } from '@ems/platform';
import { notification as api, StorableLine } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { waitMsOf } from './command.http.ts';
import { deriveRecipient, type RecipientDirectory, type RecipientRules } from './derive-recipient.ts';
import { sendEmails } from './send-email.ts';
import { MAX_PREFERRED_WAIT_S } from './send-email.http.ts';

/** POST /api/email-batches: several emails in one request, each checked as POST /api/emails checks one. */
export function sendEmailsRoute(ctx: NotificationContext, rules: RecipientRules) {
  return async (app: App): Promise<void> => {
    app.post(
      api.NotificationPaths.emailBatches,
      {
        schema: {
          operationId: 'sendEmails',
          tags: ['notification'],
          summary: 'Send several emails in one request (each once per resignation, purpose and recipient)',
          description:
            `Up to ${api.EMAIL_BATCH_MAX} emails, each checked exactly as POST /api/emails checks one (a real case; only to the person ` +
            'its purpose names; the directory\'s address and name are used). Any email refused refuses the whole batch before ' +
            'anything is stored, and the problem names it (`body.emails.<i>…`). Then all are stored in one statement and delivered ' +
            'at once. Each email keeps its own idempotency: its `idempotencyKey` and its (resignationId, purpose, to.email). The answer ' +
            'lists each email in the order asked: `created` (its status: sent, or queued — delivery goes on — or failed), `existing` ' +
            '(a repeat: the email stored first, nothing sent again) or `conflict` (its key was used for another email; not stored). ' +
            `\`Prefer: wait=N\` (RFC 7240) waits up to N seconds (at most ${MAX_PREFERRED_WAIT_S}) for the deliveries.`,
          headers: z.object({
            'x-correlation-id': StorableLine.max(200).optional().describe("The case's correlation id, carried into the outcome events"),
            traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the outcome events'),
            prefer: StorableLine.max(200).optional().describe(`RFC 7240; wait=N: wait up to N seconds (at most ${MAX_PREFERRED_WAIT_S}) for the deliveries before answering`),
          }),
          body: api.SendEmailsRequest,
          response: { 200: api.SendEmailsAnswer, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
        },
      },
      async (req, reply) => {
        // One case and one person asked about once per request, however many emails name them.
        const asked = { ...rules, cases: onceEach(rules.cases), directory: onceEachPerson(rules.directory) };
        const batch = [];
        for (const [i, item] of req.body.emails.entries()) {
          const at = `body.emails.${i}.email`;
          const request = await deriveRecipient(asked, req.permit, item.email, at).catch((err: unknown) => {
            throw namingTheEmail(err, `${at}.resignationId`);
          });
          batch.push({ request, idempotencyKey: item.idempotencyKey });
        }
        const emails = await sendEmails(ctx, batch, traceContextFromHeaders(req.headers), waitMsOf(ctx, req.headers.prefer));
        return reply.code(200).send({ emails });
      },
    );
  };
}

function onceEach(cases: CaseLookup): CaseLookup {
  const asked = new Map<string, ReturnType<CaseLookup['get']>>();
  return {
    get(resignationId) {
      let answer = asked.get(resignationId);
      if (!answer) asked.set(resignationId, (answer = cases.get(resignationId)));
      return answer;
    },
  };
}

function onceEachPerson(directory: RecipientDirectory): RecipientDirectory {
  const asked = new Map<string, ReturnType<RecipientDirectory['relations']>>();
  return {
    relations(employeeId) {
      let answer = asked.get(employeeId);
      if (!answer) asked.set(employeeId, (answer = directory.relations(employeeId)));
      return answer;
    },
  };
}

/** EMS's answer about a case (unknown, or not the employee's) names the email it refused, as every other refusal does. */
function namingTheEmail(err: unknown, path: string): unknown {
  if (!(err instanceof HttpProblem) || err.status >= 500 || 'errors' in err.extra) return err;
  return new HttpProblem(err.status, err.message, { type: err.type, title: err.title, extra: { ...err.extra, errors: [{ path, message: err.message }] } });
}
