import { ProblemSchema, type App } from '@ems/platform';
import { access, Uuid } from '@ems/contracts';
import { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { getHold, listHolds } from './read-holds.ts';

export function registerReadHoldsRoutes(app: App, db: AccessDb): void {
  app.get(
    access.AccessPaths.holds,
    {
      schema: {
        operationId: 'listAccessHolds',
        tags: ['access'],
        summary: 'List access holds (filter by resignation or employee)',
        querystring: access.HoldListQuery,
        response: { 200: access.HoldList, 400: ProblemSchema },
      },
    },
    async (req) => listHolds(db, req.query, req.permit.employeeIds),
  );
  app.get(
    '/api/access-holds/:id',
    {
      schema: {
        operationId: 'getAccessHold',
        tags: ['access'],
        summary: 'One access hold, with the grants it suspended',
        params: z.object({ id: Uuid }),
        response: { 200: access.AccessHold, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getHold(db, req.params.id, (e) => req.permit.viewOf(e) !== undefined),
  );
}
