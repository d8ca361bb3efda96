import { notFound } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { z } from 'zod';
import type { AccessDb } from '../db/access.db.ts';

/** Every grant an employee holds and its status now: critical systems first, then by system. */
export async function effectiveAccess(db: AccessDb, employeeId: string): Promise<z.infer<typeof access.EffectiveAccess>> {
  const identity = await db.selectFrom('identities').select('employee_id').where('employee_id', '=', employeeId).executeTakeFirst();
  if (!identity) throw notFound(`Employee ${employeeId} has no identity in the access directory`);
  const rows = await db
    .selectFrom('grants')
    .innerJoin('systems', 'systems.id', 'grants.system_id')
    .select(['grants.id', 'grants.system_id', 'systems.name', 'systems.critical', 'grants.role', 'grants.status'])
    .where('grants.employee_id', '=', employeeId)
    .orderBy('systems.critical', 'desc')
    .orderBy('grants.system_id')
    .orderBy('grants.id')
    .execute();
  return {
    employeeId,
    items: rows.map((r) => ({ grantId: r.id, system: r.system_id, systemName: r.name, critical: r.critical, role: r.role, status: r.status })),
  };
}
