import type { App } from '@ems/platform';
import { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import { listSystems } from './list-systems.ts';

export function registerListSystemsRoute(app: App, db: AccessDb): void {
  app.get(
    access.AccessPaths.systems,
    { schema: { operationId: 'listSystems', tags: ['access'], summary: 'Systems, and which of them are critical', response: { 200: access.SystemList } } },
    async () => listSystems(db),
  );
}
