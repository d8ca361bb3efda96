import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { access, IDEMPOTENCY_HEADER } from '@ems/contracts';
import { traceContextFromHeaders } from '@ems/eventbus';
import { auditByRequest } from '../audit/on-behalf-of.http.ts';
import { ChangeHeaders } from '../suspend-access/suspend-access.http.ts';
import { requestRevocation, type RevokeAccessDeps } from './revoke-access.ts';

export function registerRevokeAccessRoute(app: App, deps: RevokeAccessDeps, cases: CaseLookup): void {
  app.post(
    access.AccessPaths.revocations,
    {
      schema: {
        operationId: 'revokeAccess',
        tags: ['access'],
        summary: "Revoke every remaining grant of a leaver, now or at revokeAt (idempotent per resignation; a higher revision moves a scheduled one)",
        headers: ChangeHeaders,
        body: access.RevocationRequest,
        response: { 200: access.Revocation, 201: access.Revocation, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 502: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (req, reply) => {
      // The On-Behalf-Of header is checked first: a malformed request is refused before EMS is asked anything.
      const by = auditByRequest(req)(req.body.employeeId);
      // Only for a real case, and only its employee's (EMS says so): a service token alone is not enough.
      await requireCase(cases, req.body.resignationId, req.body.employeeId);
      const { revocation, created } = await requestRevocation(deps, req.body, by, req.headers[IDEMPOTENCY_HEADER], traceContextFromHeaders(req.headers));
      return reply.status(created ? 201 : 200).send(revocation);
    },
  );
}
