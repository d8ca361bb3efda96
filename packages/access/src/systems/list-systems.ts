import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';
import type { ConnectedSystems } from '../connectors/registry.ts';

/**
 * All systems access is granted to, each with its connector type and the settings it may show (a
 * connector's describe(): never a secret); a short catalogue, so one page holds it all.
 */
export async function listSystems(db: AccessDb, connected: ConnectedSystems): Promise<z.infer<typeof access.SystemList>> {
  const rows = await db.selectFrom('systems').select(['id', 'name', 'critical', 'connector']).orderBy('id').execute();
  return {
    items: rows.map((r) => ({ id: r.id, name: r.name, critical: r.critical, connector: { type: r.connector, settings: connected.get(r.id)?.description ?? {} } })),
    nextOffset: null,
  };
}
