import { ProblemSchema, type App } from '@ems/platform';
import { access } from '@ems/contracts';
import type { Reconciler } from './reconciler.ts';

export function registerRunReconciliationRoute(app: App, reconciler: Pick<Reconciler, 'runNow'>): void {
  app.post(
    access.AccessPaths.reconciliations,
    {
      schema: {
        operationId: 'runAccessReconciliation',
        tags: ['access'],
        summary: 'Compare every connected system with what Access believes, now, and answer what the round found (waits for a running round first)',
        response: { 200: access.Reconciliation, 400: ProblemSchema, 409: ProblemSchema },
      },
    },
    // The round's audit rows name the reconciler, on behalf of whoever asked for it.
    async (req) => reconciler.runNow(req.permit.actor()),
  );
}
