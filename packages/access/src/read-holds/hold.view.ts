import type { access } from '@ems/contracts';
import { sql, type Selectable } from 'kysely';
import type { AccessDb, AccessTx, HoldsTable } from '../db/access.db.ts';
import { systemChangesOf } from '../connectors/system-changes.view.ts';

export type HoldRow = Selectable<HoldsTable>;
type AccessHold = access.AccessHold;

/** Maps hold rows to the contract shape, with the grants each hold holds suspended (one query for all). */
export async function toHoldViews(db: AccessDb | AccessTx, rows: readonly HoldRow[]): Promise<AccessHold[]> {
  if (rows.length === 0) return [];
  const held = await db
    .selectFrom('hold_grants')
    .innerJoin('grants', 'grants.id', 'hold_grants.grant_id')
    .select(['hold_grants.hold_id', 'hold_grants.grant_id', 'grants.system_id'])
    .where(
      'hold_grants.hold_id',
      'in',
      rows.map((r) => r.id),
    )
    // Code-point order whatever the database's collation: the order a new hold's answer has (planHold).
    .orderBy(sql`hold_grants.grant_id COLLATE "C"`)
    .execute();
  const systems = await systemChangesOf(
    db,
    'hold_id',
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    id: r.id,
    resignationId: r.resignation_id,
    employeeId: r.employee_id,
    status: r.status,
    suspendedGrants: held.filter((h) => h.hold_id === r.id).map((h) => ({ grantId: h.grant_id, system: h.system_id })),
    createdAt: r.created_at.toISOString(),
    releasedAt: r.released_at ? r.released_at.toISOString() : null,
    systems: systems.get(r.id) ?? [],
  }));
}

export async function toHoldView(db: AccessDb | AccessTx, row: HoldRow): Promise<AccessHold> {
  const [view] = await toHoldViews(db, [row]);
  return view!;
}
