import { z } from 'zod';
import { ProblemSchema, type App } from '@ems/platform';
import { access, StorableLine } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import { auditByRequest, OnBehalfOfHeaders } from '../audit/on-behalf-of.http.ts';
import { suspendAccessForExit, type SuspendAccessForExitDeps } from './suspend-access-for-exit.ts';

const Headers = z.looseObject({
  'x-correlation-id': StorableLine.max(200).optional().describe("The batch's correlation id, carried into the exitAccessSuspended event"),
  traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the event and the connector tasks'),
  ...OnBehalfOfHeaders,
});

/**
 * The orchestrator's command: one chunk of an involuntary or mass exit. Idempotent by (batchId, chunk):
 * the body is the key, so no Idempotency-Key — a repeat answers what the first call did and changes nothing.
 */
export function registerSuspendAccessForExitRoute(app: App, deps: SuspendAccessForExitDeps): void {
  app.post(
    access.AccessPaths.exitSuspensions,
    {
      schema: {
        operationId: 'suspendAccessForExit',
        tags: ['access'],
        summary: "Suspend every grant of a chunk's people (≤ 500) at once and schedule each revocation at its instant (idempotent per batch and chunk)",
        description:
          'One transaction for the chunk: a hold per person covering every active grant (a hold already active for the person is widened), ' +
          'a suspend task per connected system, the audit, each revocation on the timer at the person\'s revokeAt, and exitAccessSuspended. ' +
          'A person who cannot be suspended (no identity here, named twice, a case that is someone else\'s) is listed in `failed`; the others are not held up.',
        headers: Headers,
        body: access.SuspendAccessForExitRequest,
        response: { 200: access.SuspendAccessForExitAnswer, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req) => {
      const { outcome } = await suspendAccessForExit(deps, req.body, auditByRequest(req), traceContextFromHeaders(req.headers));
      return outcome;
    },
  );
}
