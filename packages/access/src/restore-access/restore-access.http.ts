import { ProblemSchema, requireCase, type App, type CaseLookup } from '@ems/platform';
import { access, Uuid } from '@ems/contracts';
import { z } from 'zod';
import { traceContextFromHeaders } from '@ems/eventbus';
import { auditByRequest } from '../audit/on-behalf-of.http.ts';
import { ChangeHeaders } from '../suspend-access/suspend-access.http.ts';
import { logReleased, releaseHold, type ReleaseHoldDeps } from './release-hold.ts';
import { restoreAccess } from './restore-access.ts';

export function registerRestoreAccessRoutes(app: App, deps: ReleaseHoldDeps, cases: CaseLookup): void {
  app.post(
    '/api/access-holds/:id/release',
    {
      schema: {
        operationId: 'releaseAccessHold',
        tags: ['access'],
        summary: 'Release an access hold: restore what it suspended and is still suspended by it (idempotent)',
        // Releasing is naturally idempotent; the header is accepted for uniformity with other mutations.
        headers: ChangeHeaders,
        params: z.object({ id: Uuid }),
        body: access.ReleaseHoldRequest.nullish(),
        response: { 200: access.AccessHold, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => releaseHold(deps, req.params.id, auditByRequest(req), req.body ?? {}, traceContextFromHeaders(req.headers)),
  );

  // The orchestrator's command for a closed case: the same use case as restore-access-when-resignation-closed.
  app.post(
    access.AccessPaths.lifts,
    {
      schema: {
        operationId: 'restoreAccess',
        tags: ['access'],
        summary: "Lift a retained or withdrawn case's hold, or record that it has none (idempotent)",
        description:
          "The orchestrator's command; choreography's retained / withdrawn events run the same use case. Releases the case's hold " +
          '(restoring what it suspended), answers an already released one with nothing restored, and — when the case has no hold ' +
          'yet — records one released so that a hold asked for later changes nothing. The answer is what accessRestored says.',
        headers: ChangeHeaders,
        body: access.RestoreAccessRequest,
        response: { 200: access.HoldLifted, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => {
      const by = auditByRequest(req)(req.body.employeeId);
      await requireCase(cases, req.body.resignationId, req.body.employeeId);
      const { resignationId, employeeId, reason } = req.body;
      const lift = await deps.db.transaction().execute((trx) => restoreAccess(trx, deps, { resignationId, employeeId, why: reason }, traceContextFromHeaders(req.headers), by));
      if (lift.outcome === 'released') {
        logReleased(deps.log, lift.release);
        if (lift.release.released) deps.wakeConnectors?.();
      }
      return lift.lifted;
    },
  );
}
