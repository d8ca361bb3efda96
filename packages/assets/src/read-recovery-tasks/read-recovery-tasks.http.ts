import { ProblemSchema, type App } from '@ems/platform';
import { Uuid } from '@ems/contracts';
import { z } from 'zod';
import { AssetsPaths, RecoveryTask, RecoveryTaskList, RecoveryTaskListQuery } from '../api.ts';
import type { AssetsDb } from '../db/assets.db.ts';
import { getRecoveryTask, listRecoveryTasks } from './read-recovery-tasks.ts';

export function registerReadRecoveryTasksRoutes(app: App, db: AssetsDb): void {
  app.get(
    AssetsPaths.tasks,
    {
      schema: {
        operationId: 'listAssetRecoveryTasks', tags: ['assets'],
        summary: 'List asset recovery tasks (filter by resignation, employee or status)',
        querystring: RecoveryTaskListQuery,
        response: { 200: RecoveryTaskList, 400: ProblemSchema },
      },
    },
    async (req) => listRecoveryTasks(db, req.query),
  );
  app.get(
    '/api/asset-recovery-tasks/:id',
    {
      schema: {
        operationId: 'getAssetRecoveryTask', tags: ['assets'],
        summary: 'One asset recovery task',
        params: z.object({ id: Uuid }),
        response: { 200: RecoveryTask, 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req) => getRecoveryTask(db, req.params.id),
  );
}
