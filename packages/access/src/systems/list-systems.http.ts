import type { App } from '@ems/platform';
import { access } from '@ems/contracts';
import type { AccessDb } from '../db/access.db.ts';
import type { ConnectedSystems } from '../connectors/registry.ts';
import { listSystems } from './list-systems.ts';

export function registerListSystemsRoute(app: App, db: AccessDb, connected: ConnectedSystems): void {
  app.get(
    access.AccessPaths.systems,
    { schema: { operationId: 'listSystems', tags: ['access'], summary: 'Systems: which of them are critical, and how Access reaches each (connector type and its non-secret settings)', response: { 200: access.SystemList } } },
    async () => listSystems(db, connected),
  );
}
