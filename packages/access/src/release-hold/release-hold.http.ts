import { ProblemSchema, type App } from '@ems/platform';
import { access, Uuid } from '@ems/contracts';
import { z } from 'zod';
import { traceContextFromHeaders } from '@ems/eventbus';
import { auditByRequest } from '../audit/on-behalf-of.http.ts';
import { ChangeHeaders } from '../create-hold/create-hold.http.ts';
import { releaseHold, type ReleaseHoldDeps } from './release-hold.ts';

export function registerReleaseHoldRoute(app: App, deps: ReleaseHoldDeps): void {
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
}
