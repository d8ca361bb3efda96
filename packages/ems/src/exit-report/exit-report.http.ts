import { ProblemSchema, type App } from '@ems/platform';
import { reports as api } from '@ems/contracts';
import { exitReport } from './exit-report.ts';
import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import type { EmsDb } from '../db/types.ts';

export function exitReportRoute(deps: { db: Kysely<EmsDb>; clock: Clock }) {
  return async (app: App): Promise<void> => {
    app.get(
      api.ReportPaths.exits,
      {
        schema: {
          operationId: 'getExitReport',
          tags: ['reports'],
          summary: 'Exit report: cases submitted, exits confirmed, retained and withdrawn — by month, department and reason category',
          description:
            'Days are UTC; `to` is inclusive. A case counts in `submitted` by its submission, in `exits` (statuses exit_confirmed and exited), `retained` or `withdrawn` by its decision. ' +
            'Cases submitted without a reason category count as `uncategorised`.',
          querystring: api.ExitReportQuery,
          response: { 200: api.ExitReport, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
        },
      },
      async (req) => exitReport(deps, req.query),
    );
  };
}
