import type { access } from '@ems/contracts';
import type { Selectable } from 'kysely';
import type { AccessDb, AccessTx, ConnectorTasksTable } from '../db/access.db.ts';

/** The connector tasks of some holds or revocations, as the views show them, grouped by origin id (creation order). */
export async function systemChangesOf(db: AccessDb | AccessTx, of: 'hold_id' | 'revocation_id', ids: readonly string[]): Promise<Map<string, access.SystemChangeView[]>> {
  const byOrigin = new Map<string, access.SystemChangeView[]>();
  if (ids.length === 0) return byOrigin;
  const rows = await db
    .selectFrom('connector_tasks')
    .innerJoin('systems', 'systems.id', 'connector_tasks.system_id')
    .select([
      'connector_tasks.id',
      'connector_tasks.hold_id',
      'connector_tasks.revocation_id',
      'connector_tasks.system_id',
      'systems.name as system_name',
      'connector_tasks.connector',
      'connector_tasks.action',
      'connector_tasks.entitlements',
      'connector_tasks.status',
      'connector_tasks.attempts',
      'connector_tasks.last_error',
      'connector_tasks.verification',
      'connector_tasks.next_attempt_at',
      'connector_tasks.updated_at',
    ])
    .where(`connector_tasks.${of}`, 'in', [...ids])
    .orderBy('connector_tasks.seq')
    .execute();
  for (const r of rows) {
    const origin = (of === 'hold_id' ? r.hold_id : r.revocation_id)!;
    const list = byOrigin.get(origin) ?? [];
    list.push(toSystemChangeView(r));
    byOrigin.set(origin, list);
  }
  return byOrigin;
}

/** A connector task row (with its system's name) as the views show it. */
export function toSystemChangeView(r: Pick<Selectable<ConnectorTasksTable>, 'id' | 'system_id' | 'connector' | 'action' | 'entitlements' | 'status' | 'attempts' | 'last_error' | 'verification' | 'next_attempt_at' | 'updated_at'> & { system_name: string }): access.SystemChangeView {
  return {
    changeId: r.id,
    systemId: r.system_id,
    systemName: r.system_name,
    connector: r.connector,
    action: r.action,
    entitlements: r.entitlements,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    verification: r.verification,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    updatedAt: r.updated_at.toISOString(),
  };
}
