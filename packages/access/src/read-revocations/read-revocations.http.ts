import { ProblemSchema, type App } from '@ems/platform';
import { access, Uuid } from '@ems/contracts';
import { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { getRevocation, listRevocations } from './read-revocations.ts';

export function registerReadRevocationsRoutes(app: App, db: AccessDb): void {
  app.get(
    access.AccessPaths.revocations,
    {
      schema: {
        operationId: 'listAccessRevocations',
        tags: ['access'],
        summary: 'List access revocations (filter by resignation, employee or status)',
        querystring: access.RevocationListQuery,
        response: { 200: access.RevocationList, 400: ProblemSchema },
      },
    },
    async (req) => listRevocations(db, req.query, req.permit.employeeIds),
  );
  app.get(
    '/api/access-revocations/:id',
    {
      schema: {
        operationId: 'getAccessRevocation',
        tags: ['access'],
        summary: 'One access revocation: when it is due, or what it revoked',
        params: z.object({ id: Uuid }),
        response: { 200: access.Revocation, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getRevocation(db, req.params.id, (e) => req.permit.viewOf(e) !== undefined),
  );
}
