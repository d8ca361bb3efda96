import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';

/** All systems access is granted to; a short catalogue, so one page holds it all. */
export async function listSystems(db: AccessDb): Promise<z.infer<typeof access.SystemList>> {
  const rows = await db.selectFrom('systems').select(['id', 'name', 'critical']).orderBy('id').execute();
  return { items: rows.map((r) => ({ id: r.id, name: r.name, critical: r.critical })), nextOffset: null };
}
