import type { Actor } from '@ems/platform';
import type { TraceContext } from '@ems/eventbus';
import type { access } from '@ems/contracts';
import type { AccessTx, ConnectorTaskAction } from '../db/access.db.ts';
import { planRestoreTasks, planRevokeTasks, planSuspendTasks, type ChangedGrant, type PlannedTask, type SystemConnection } from './plan-connector-tasks.ts';
import { toSystemChangeView } from './system-changes.view.ts';

/** Where a change comes from: a hold (suspend, restore) or a revocation (revoke), and the case's trace. */
export interface TaskOrigin {
  holdId?: string | undefined;
  revocationId?: string | undefined;
  resignationId: string | null;
  employeeId: string;
  trace: TraceContext;
  /** On whose behalf it was decided: the worker's audit rows name them. */
  requestedBy: Actor | null;
  at: Date;
}

/** The grants `ids` with their system and role (what a task needs), in the caller's transaction. */
async function changedGrants(trx: AccessTx, ids: readonly string[]): Promise<ChangedGrant[]> {
  if (ids.length === 0) return [];
  const rows = await trx.selectFrom('grants').select(['id', 'system_id', 'role']).where('id', 'in', [...ids]).execute();
  return rows.map((r) => ({ grantId: r.id, systemId: r.system_id, role: r.role }));
}

async function connections(trx: AccessTx, systemIds: readonly string[]) {
  if (systemIds.length === 0) return [];
  return trx.selectFrom('systems').select(['id', 'critical', 'connector']).where('id', 'in', [...new Set(systemIds)]).execute();
}

/**
 * New holds' suspend tasks (their transaction): per hold, one per critical connected system it suspended
 * grants on — from the grants and systems the transaction has read already (no read here) — all in one
 * statement; each hold's answered as its view shows them (`systems`, in creation order), in the order the
 * holds were given.
 */
export async function enqueueSuspendTasksOfMany(
  trx: AccessTx,
  holds: ReadonlyArray<{ origin: TaskOrigin & { holdId: string }; suspended: readonly ChangedGrant[] }>,
  systems: ReadonlyArray<SystemConnection & { name: string }>,
): Promise<access.SystemChangeView[][]> {
  const planned = holds.map((h) => ({ origin: h.origin, tasks: planSuspendTasks(h.suspended, systems) }));
  if (planned.every((p) => p.tasks.length === 0)) return holds.map(() => []);
  const names = new Map(systems.map((s) => [s.id, s.name]));
  const rows = await insertTaskRows(trx, 'suspend', planned)
    .returning(['id', 'seq', 'hold_id', 'system_id', 'connector', 'action', 'entitlements', 'status', 'attempts', 'last_error', 'verification', 'next_attempt_at', 'updated_at'])
    .execute();
  const byHold = new Map<string, typeof rows>();
  for (const r of rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1))) {
    const mine = byHold.get(r.hold_id!) ?? [];
    mine.push(r);
    byHold.set(r.hold_id!, mine);
  }
  return holds.map((h) => (byHold.get(h.origin.holdId) ?? []).map((r) => toSystemChangeView({ ...r, system_name: names.get(r.system_id) ?? r.system_id })));
}

/** A released hold's restore tasks (its transaction): one per system its suspend tasks went to or it gives grants back on. */
export async function enqueueRestoreTasks(trx: AccessTx, origin: TaskOrigin & { holdId: string }, restoredGrantIds: readonly string[], handedOver: boolean): Promise<number> {
  const suspendedOn = await trx
    .selectFrom('connector_tasks')
    .select(['system_id', 'connector'])
    .where('hold_id', '=', origin.holdId)
    .where('action', '=', 'suspend')
    .orderBy('seq')
    .execute();
  const restored = await changedGrants(trx, restoredGrantIds);
  const systems = await connections(trx, restored.map((g) => g.systemId));
  const planned = planRestoreTasks(
    suspendedOn.map((s) => ({ systemId: s.system_id, connector: s.connector })),
    restored,
    handedOver,
    systems,
  );
  return insertTasks(trx, origin, 'restore', planned);
}

/** A revocation's revoke tasks (its transaction): one per connected system it revoked grants on. */
export async function enqueueRevokeTasks(trx: AccessTx, origin: TaskOrigin, revokedGrantIds: readonly string[]): Promise<number> {
  const grants = await changedGrants(trx, revokedGrantIds);
  const systems = await connections(trx, grants.map((g) => g.systemId));
  return insertTasks(trx, origin, 'revoke', planRevokeTasks(grants, systems));
}

/**
 * Many revocations' revoke tasks in one go (the revocation timer's round): the grants and systems read once,
 * each revocation's tasks planned as enqueueRevokeTasks plans them, all inserted in one statement.
 */
export async function enqueueRevokeTasksOfMany(trx: AccessTx, revocations: ReadonlyArray<{ origin: TaskOrigin; revokedGrantIds: readonly string[] }>): Promise<number> {
  const grants = await changedGrants(trx, revocations.flatMap((r) => r.revokedGrantIds));
  if (grants.length === 0) return 0;
  const systems = await connections(trx, grants.map((g) => g.systemId));
  const grantById = new Map(grants.map((g) => [g.grantId, g]));
  const planned = revocations.map((r) => ({
    origin: r.origin,
    tasks: planRevokeTasks(
      r.revokedGrantIds.map((id) => grantById.get(id)).filter((g): g is ChangedGrant => g !== undefined),
      systems,
    ),
  }));
  return insertManyTasks(trx, 'revoke', planned);
}

async function insertTasks(trx: AccessTx, origin: TaskOrigin, action: ConnectorTaskAction, tasks: readonly PlannedTask[]): Promise<number> {
  return insertManyTasks(trx, action, [{ origin, tasks }]);
}

async function insertManyTasks(trx: AccessTx, action: ConnectorTaskAction, planned: ReadonlyArray<{ origin: TaskOrigin; tasks: readonly PlannedTask[] }>): Promise<number> {
  const count = planned.reduce((n, p) => n + p.tasks.length, 0);
  if (count === 0) return 0;
  await insertTaskRows(trx, action, planned).execute();
  return count;
}

/** The INSERT of the planned tasks (at least one), for the caller to execute, with RETURNING or without. */
function insertTaskRows(trx: AccessTx, action: ConnectorTaskAction, planned: ReadonlyArray<{ origin: TaskOrigin; tasks: readonly PlannedTask[] }>) {
  const rows = planned.flatMap(({ origin, tasks }) => tasks.map((t) => ({ origin, t })));
  return trx
    .insertInto('connector_tasks')
    .values(
      rows.map(({ origin, t }) => ({
        id: crypto.randomUUID(),
        hold_id: origin.holdId ?? null,
        revocation_id: origin.revocationId ?? null,
        resignation_id: origin.resignationId,
        employee_id: origin.employeeId,
        system_id: t.systemId,
        connector: t.connector,
        action,
        entitlements: t.entitlements,
        next_attempt_at: origin.at,
        correlation_id: origin.trace.correlationId ?? origin.resignationId ?? origin.employeeId,
        traceparent: origin.trace.traceparent ?? null,
        requested_by: origin.requestedBy === null ? null : JSON.stringify(origin.requestedBy),
        created_at: origin.at,
        updated_at: origin.at,
      })),
    );
}
