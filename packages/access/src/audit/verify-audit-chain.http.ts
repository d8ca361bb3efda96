import { ProblemSchema, type App, type Clock } from '@ems/platform';
import { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import { describeVerification, verifyAuditChain } from './verify-audit-chain.ts';

export function registerVerifyAuditRoute(app: App, deps: { db: AccessDb; clock: Clock }): void {
  app.get(
    access.AccessPaths.auditVerification,
    {
      schema: {
        operationId: 'verifyAccessAudit',
        tags: ['access'],
        summary: "Check the access audit's hash chain: every entry recomputed from its content and linked to the one before (the first broken link, if any)",
        response: { 200: access.AuditVerification, 400: ProblemSchema },
      },
    },
    async () => describeVerification(await verifyAuditChain(deps.db), deps.clock.now()),
  );
}
