import { notFound, ProblemSchema, type App } from '@ems/platform';
import { access, EmployeeId } from '@ems/contracts';
import { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { effectiveAccess } from './effective-access.ts';

export function registerEffectiveAccessRoute(app: App, db: AccessDb): void {
  app.get(
    '/api/employees/:id/access',
    {
      schema: {
        operationId: 'getEmployeeAccess',
        tags: ['access'],
        summary: "An employee's grants and their current status",
        params: z.object({ id: EmployeeId }),
        response: { 200: access.EffectiveAccess, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => {
      // An employee the caller may not see answers exactly like an unknown one.
      if (!req.permit.viewOf(req.params.id)) throw notFound(`Employee ${req.params.id} has no identity in the access directory`);
      return effectiveAccess(db, req.params.id);
    },
  );
}
