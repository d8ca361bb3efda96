import { ProblemSchema, type App } from '@ems/platform';
import { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import { listDrifts } from './list-drifts.ts';

export function registerListDriftsRoute(app: App, db: AccessDb): void {
  app.get(
    access.AccessPaths.drifts,
    {
      schema: {
        operationId: 'listAccessDrifts',
        tags: ['access'],
        summary: 'Drifts between connected systems and Access, newest first (open ones by default; filter by employee, system or case)',
        querystring: access.DriftListQuery,
        response: { 200: access.DriftList, 400: ProblemSchema },
      },
    },
    async (req) => listDrifts(db, req.query),
  );
}
