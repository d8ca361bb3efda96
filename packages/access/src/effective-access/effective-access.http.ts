import { ProblemSchema, type App } from '@ems/platform';
import { access, EmployeeId } from '@ems/contracts';
import { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import { effectiveAccess } from './effective-access.ts';

export function registerEffectiveAccessRoute(app: App, db: AccessDb): void {
  app.get(
    '/api/employees/:id/access',
    {
      schema: {
        tags: ['access'],
        summary: "An employee's grants and their current status",
        params: z.object({ id: EmployeeId }),
        response: { 200: access.EffectiveAccess, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => effectiveAccess(db, req.params.id),
  );
}
