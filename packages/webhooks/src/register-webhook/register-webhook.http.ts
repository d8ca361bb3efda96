import { ProblemSchema, type App } from '@ems/platform';
import { IDEMPOTENCY_HEADER, IdempotencyKey } from '@ems/contracts';
import { z } from 'zod';
import { RegisteredWebhook, RegisterWebhookRequest, WebhookPaths } from '../api.ts';
import type { WebhooksContext } from '../webhooks.context.ts';
import { registerWebhook } from './register-webhook.ts';

export function registerRegisterWebhookRoute(app: App, ctx: WebhooksContext): void {
  // The use case checks event types against the catalogue at request time (extensions may add types
  // after the routes are registered); the description lists those known now.
  const known = Object.keys(ctx.catalogue);
  app.post(
    WebhookPaths.webhooks,
    {
      schema: {
        operationId: 'registerWebhook', tags: ['webhooks'],
        summary: 'Register a URL to receive events (the answer carries the signing secret, once)',
        description:
          'Matching events are POSTed as CloudEvents (application/cloudevents+json) with the headers webhook-id, webhook-timestamp and ' +
          'webhook-signature: v1=<hex HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>. A non-2xx answer or no answer is retried with backoff, then dead-lettered. ' +
          'The signing secret is shown once: the answer that creates the webhook (201) carries it; it is stored encrypted and never returned again. ' +
          'A repeat with the same Idempotency-Key changes nothing and answers 200 with the webhook and `secret: null`; the same registration without a key answers 200 without `secret`. ' +
          'A lost secret cannot be recovered: delete the webhook and register it again. ' +
          `Event types: ${known.join(', ')}.`,
        headers: z.looseObject({
          [IDEMPOTENCY_HEADER]: IdempotencyKey.optional().describe('A repeat with the same key changes nothing and answers the webhook (200), with `secret: null`: the secret is shown once'),
        }),
        body: RegisterWebhookRequest,
        response: { 200: RegisteredWebhook, 201: RegisteredWebhook, 400: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { webhook, created } = await registerWebhook(ctx, req.body, req.headers[IDEMPOTENCY_HEADER]);
      return reply.status(created ? 201 : 200).send(webhook);
    },
  );
}
