import { conflict, notFound, type Clock, type Logger } from '@ems/platform';
import type { access } from '@ems/contracts';
import type { AccessDb, AccessTx } from '../db/access.db.ts';
import { planHold } from '../domain/hold.ts';
import { toHoldView, type HoldRow } from '../read-holds/hold.view.ts';
import { lockIdentity } from '../db/locks.ts';

export interface CreateHoldDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
}

export interface CreateHoldResult {
  hold: access.AccessHold;
  /** false when an earlier request (same resignation or Idempotency-Key) already created it. */
  created: boolean;
}

/**
 * Puts an employee's critical access on hold for one resignation case.
 *
 * One hold per resignation: a repeat (same resignationId, or same Idempotency-Key) answers the hold
 * that exists and changes nothing. The first request, in one transaction, locks the employee, decides
 * which grants to suspend (active grants on critical systems), suspends them in the hold's name and
 * audits each change.
 */
export async function createHold(deps: CreateHoldDeps, request: access.CreateHoldRequest, idempotencyKey?: string): Promise<CreateHoldResult> {
  const { db, clock, log } = deps;

  // A repeat needs no lock.
  const earlier = await findEarlierHold(db, request, idempotencyKey);
  if (earlier) return { hold: await toHoldView(db, earlier), created: false };

  const result = await db.transaction().execute(async (trx): Promise<CreateHoldResult> => {
    if (!(await lockIdentity(trx, request.employeeId))) {
      throw notFound(`Employee ${request.employeeId} has no identity in the access directory`);
    }
    // Whoever held the lock before us may have created this very hold.
    const raced = await findEarlierHold(trx, request, idempotencyKey);
    if (raced) return { hold: await toHoldView(trx, raced), created: false };

    const grants = await trx
      .selectFrom('grants')
      .select(['id', 'system_id', 'status', 'suspended_by_hold'])
      .where('employee_id', '=', request.employeeId)
      .orderBy('id')
      .forUpdate()
      .execute();
    const systems = await trx.selectFrom('systems').select(['id', 'critical']).execute();
    const toSuspend = planHold(
      grants.map((g) => ({ id: g.id, systemId: g.system_id, status: g.status, suspendedByHold: g.suspended_by_hold })),
      systems,
    );

    const now = clock.now();
    const hold = await trx
      .insertInto('holds')
      .values({
        id: crypto.randomUUID(),
        resignation_id: request.resignationId,
        employee_id: request.employeeId,
        reason: request.reason ?? null,
        created_at: now,
        idempotency_key: idempotencyKey ?? null,
      })
      // The identity lock serialises requests for one employee; a conflict here is the same resignation
      // or key sent for another employee, committed meanwhile. Read it back instead of failing.
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!hold) {
      const other = await findEarlierHold(trx, request, idempotencyKey);
      if (!other) throw new Error(`hold for resignation ${request.resignationId} conflicted, but no conflicting hold is visible`);
      return { hold: await toHoldView(trx, other), created: false };
    }

    if (toSuspend.length > 0) {
      const ids = toSuspend.map((c) => c.grantId);
      await trx
        .insertInto('hold_grants')
        .values(toSuspend.map((c) => ({ hold_id: hold.id, grant_id: c.grantId, prior_status: c.from })))
        .execute();
      await trx
        .updateTable('grants')
        .set({ status: 'suspended', suspended_by_hold: hold.id, updated_at: now })
        .where('id', 'in', ids)
        .execute();
      const reason = request.reason ?? `Access hold for resignation ${request.resignationId}`;
      await trx
        .insertInto('audit')
        .values(
          toSuspend.map((c) => ({
            at: now,
            employee_id: request.employeeId,
            grant_id: c.grantId,
            system_id: c.systemId,
            from_status: c.from,
            to_status: c.to,
            reason,
            hold_id: hold.id,
          })),
        )
        .execute();
    }
    return { hold: await toHoldView(trx, hold), created: true };
  });

  if (result.created) {
    log.info(
      { holdId: result.hold.id, resignationId: request.resignationId, employeeId: request.employeeId, suspended: result.hold.suspendedGrants.length },
      'access hold created',
    );
  }
  return result;
}

/**
 * The hold an earlier request created, if any. The same resignation for another employee, or an
 * Idempotency-Key reused for another resignation, is a conflicting request, not a repeat.
 */
async function findEarlierHold(db: AccessDb | AccessTx, request: access.CreateHoldRequest, idempotencyKey: string | undefined): Promise<HoldRow | undefined> {
  const rows = await db
    .selectFrom('holds')
    .selectAll()
    .where((eb) =>
      idempotencyKey === undefined
        ? eb('resignation_id', '=', request.resignationId)
        : eb.or([eb('resignation_id', '=', request.resignationId), eb('idempotency_key', '=', idempotencyKey)]),
    )
    .execute();
  const byKey = rows.find((r) => r.resignation_id !== request.resignationId);
  if (byKey) {
    throw conflict(`Idempotency-Key ${idempotencyKey} was already used for resignation ${byKey.resignation_id}`, { holdId: byKey.id });
  }
  const hold = rows[0];
  if (hold && hold.employee_id !== request.employeeId) {
    throw conflict(`Resignation ${request.resignationId} already has an access hold for employee ${hold.employee_id}`, { holdId: hold.id });
  }
  return hold;
}
