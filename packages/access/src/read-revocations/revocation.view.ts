import type { access } from '@ems/contracts';
import type { Selectable } from 'kysely';
import type { AccessDb, AccessTx, RevocationsTable } from '../db/access.db.ts';
import { systemChangesOf } from '../connectors/system-changes.view.ts';

/** Maps revocation rows to the contract shape (whitelisted fields), with the grants each revoked (one query for all). */
export async function toRevocationViews(db: AccessDb | AccessTx, rows: readonly Selectable<RevocationsTable>[]): Promise<access.Revocation[]> {
  if (rows.length === 0) return [];
  const revoked = await db
    .selectFrom('revocation_grants')
    .select(['revocation_id', 'grant_id', 'system_id'])
    .where(
      'revocation_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('grant_id')
    .execute();
  const systems = await systemChangesOf(
    db,
    'revocation_id',
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    id: r.id,
    resignationId: r.resignation_id,
    employeeId: r.employee_id,
    status: r.status,
    revokeAt: r.revoke_at.toISOString(),
    revision: r.revision,
    revoked: revoked.filter((g) => g.revocation_id === r.id).map((g) => ({ grantId: g.grant_id, system: g.system_id })),
    doneAt: r.done_at ? r.done_at.toISOString() : null,
    systems: systems.get(r.id) ?? [],
  }));
}

export async function toRevocationView(db: AccessDb | AccessTx, row: Selectable<RevocationsTable>): Promise<access.Revocation> {
  const [view] = await toRevocationViews(db, [row]);
  return view!;
}
