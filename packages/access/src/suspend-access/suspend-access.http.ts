import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { access, IDEMPOTENCY_HEADER, IdempotencyKey, StorableLine } from '@ems/contracts';
import { z } from 'zod';
import { traceContextFromHeaders } from '@ems/eventbus';
import { auditByRequest, OnBehalfOfHeaders } from '../audit/on-behalf-of.http.ts';
import type { SuspendAccessDeps } from './suspend-access.ts';
import { createHoldsTogether } from './holds-together.ts';

export const IdempotencyHeaders = z.looseObject({
  [IDEMPOTENCY_HEADER]: IdempotencyKey.optional().describe('A repeat with the same key changes nothing and answers the original result'),
  'x-correlation-id': StorableLine.max(200).optional().describe("The case's correlation id, carried into the event a new hold publishes"),
  traceparent: StorableLine.max(200).optional().describe('W3C trace context, continued by the event a new hold publishes'),
});

/** The headers of a request that changes access: the above, and whom a service acts for. */
export const ChangeHeaders = IdempotencyHeaders.extend(OnBehalfOfHeaders);

export function registerSuspendAccessRoute(app: App, deps: SuspendAccessDeps, cases: CaseLookup): void {
  // Requests arriving at the same time share a transaction (holds-together.ts); each is answered as its own.
  const suspendTogether = createHoldsTogether(deps);
  app.post(
    access.AccessPaths.holds,
    {
      schema: {
        operationId: 'suspendAccess',
        tags: ['access'],
        summary: "Suspend an employee's critical access for a resignation (idempotent per resignation)",
        headers: ChangeHeaders,
        body: access.SuspendAccessRequest,
        response: { 200: access.AccessHold, 201: access.AccessHold, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req, reply) => {
      // The On-Behalf-Of header is checked first: a malformed request is refused before EMS is asked anything.
      const by = auditByRequest(req)(req.body.employeeId);
      // Only for a real case, and only its employee's (EMS says so): a service token alone is not enough.
      await requireCase(cases, req.body.resignationId, req.body.employeeId);
      const { hold, created } = await suspendTogether({ request: req.body, by, idempotencyKey: req.headers[IDEMPOTENCY_HEADER], trace: traceContextFromHeaders(req.headers) });
      return reply.status(created ? 201 : 200).send(hold);
    },
  );
}
