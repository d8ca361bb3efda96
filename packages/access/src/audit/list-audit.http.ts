import { ProblemSchema, type App } from '@ems/platform';
import { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import { listAudit } from './list-audit.ts';

export function registerListAuditRoute(app: App, db: AccessDb): void {
  app.get(
    access.AccessPaths.audit,
    {
      schema: {
        operationId: 'listAccessAudit',
        tags: ['access'],
        summary: 'The access audit trail, oldest first (filter by employee or hold)',
        querystring: access.AuditListQuery,
        response: { 200: access.AuditList, 400: ProblemSchema },
      },
    },
    async (req) => listAudit(db, req.query),
  );
}
