import { conflict, notFound, type Clock, type HttpProblem, type Logger } from '@ems/platform';
import type { access } from '@ems/contracts';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type EventBus, type TraceContext } from '@ems/eventbus';
import type { AccessDb, AccessTx } from '../db/access.db.ts';
import { planHold } from '../domain/hold.ts';
import { toHoldView, type HoldRow } from '../read-holds/hold.view.ts';
import { lockIdentity } from '../db/locks.ts';
import type { AuditBy } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { requester } from '../audit/actor.ts';
import { enqueueSuspendTasksOf } from '../connectors/enqueue-connector-tasks.ts';

export interface SuspendAccessDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  /** When present, a new hold publishes `criticalAccessSuspended` in its own transaction. */
  bus?: EventBus | undefined;
  /** Called after a commit that may have written connector tasks: the worker looks at once. */
  wakeConnectors?: (() => void) | undefined;
}

export interface SuspendAccessResult {
  hold: access.AccessHold;
  /** false when an earlier request (same resignation or Idempotency-Key) already created it. */
  created: boolean;
}

/** Why a hold was not created: answered as a problem over HTTP, as a failure event on the bus. */
export interface HoldRefused {
  refused: HttpProblem;
}

export type SuspendAccessOutcome = SuspendAccessResult | HoldRefused;

/**
 * Puts an employee's critical access on hold for one resignation case.
 *
 * One hold per resignation: a repeat (same resignationId, or same Idempotency-Key) answers the hold
 * that exists and changes nothing. The first request, in one transaction, locks the employee, decides
 * which grants to suspend (active grants on critical systems), suspends them in the hold's name,
 * audits each change as made `by` the caller and (with a bus) publishes `criticalAccessSuspended`,
 * continuing the caller's `trace` (correlated by the resignation id when the caller gave no correlation id).
 */
export async function suspendAccess(deps: SuspendAccessDeps, request: access.SuspendAccessRequest, by: AuditBy, idempotencyKey?: string, trace: TraceContext = {}): Promise<SuspendAccessResult> {
  const { db, log } = deps;
  // No read for a repeat before the transaction: the transaction looks for it anyway once it holds the
  // identity lock, and nearly every request is a first one (a read and a commit per hold saved).
  const outcome = await db.transaction().execute((trx) => suspendAccessInTransaction(trx, deps, request, idempotencyKey, trace, by));
  if ('refused' in outcome) throw outcome.refused;
  if (outcome.created) deps.wakeConnectors?.();
  logCreated(log, outcome);
  return outcome;
}

export function logCreated(log: Logger, result: SuspendAccessResult): void {
  if (!result.created) return;
  log.info(
    { holdId: result.hold.id, resignationId: result.hold.resignationId, employeeId: result.hold.employeeId, suspended: result.hold.suspendedGrants.length },
    'access hold created',
  );
}

/**
 * The use case's core, inside the caller's transaction (an HTTP request's own, or an event handler's
 * that also records the event as processed). A refusal is returned, not thrown, and is decided before
 * anything is written, so the caller may go on using the transaction (e.g. to publish a failure event).
 */
export async function suspendAccessInTransaction(
  trx: AccessTx,
  deps: Pick<SuspendAccessDeps, 'clock' | 'bus'>,
  request: access.SuspendAccessRequest,
  idempotencyKey: string | undefined,
  trace: TraceContext,
  by: AuditBy,
): Promise<SuspendAccessOutcome> {
  // An employee unknown here: 404 — unless the resignation or key already has a hold (a repeat, or the same
  // resignation sent for another employee: 409), as when the request names a known one.
  if (!(await lockIdentity(trx, request.employeeId))) {
    const earlier = await findEarlierHold(trx, request, idempotencyKey);
    if ('refused' in earlier) return earlier;
    if (earlier.hold) return { hold: await toHoldView(trx, earlier.hold), created: false };
    return { refused: notFound(`Employee ${request.employeeId} has no identity in the access directory`) };
  }

  // The hold first: a repeat (the same resignation or Idempotency-Key, committed by whoever held the
  // identity lock before us, or sent for another employee) conflicts here and is read back instead —
  // no read for it beforehand in the usual case, a first request.
  const now = deps.clock.now();
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
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!hold) {
    const earlier = await findEarlierHold(trx, request, idempotencyKey);
    if ('refused' in earlier) return earlier;
    if (!earlier.hold) throw new Error(`hold for resignation ${request.resignationId} conflicted, but no conflicting hold is visible`);
    return { hold: await toHoldView(trx, earlier.hold), created: false };
  }

  const grants = await trx
    .selectFrom('grants')
    .select(['id', 'system_id', 'status', 'suspended_by_hold', 'role'])
    .where('employee_id', '=', request.employeeId)
    .orderBy('id')
    .forUpdate()
    .execute();
  // Read once for the plan, the connector tasks and the view (a handful of rows).
  const systems = await trx.selectFrom('systems').select(['id', 'name', 'critical', 'connector']).execute();
  const toSuspend = planHold(
    grants.map((g) => ({ id: g.id, systemId: g.system_id, status: g.status, suspendedByHold: g.suspended_by_hold })),
    systems,
  );

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
  }
  // Each critical connected system's part, in this transaction: the tasks exist iff the hold does.
  const roles = new Map(grants.map((g) => [g.id, g.role]));
  const systemChanges = await enqueueSuspendTasksOf(
    trx,
    { holdId: hold.id, resignationId: request.resignationId, employeeId: request.employeeId, trace, requestedBy: requester(by), at: now },
    toSuspend.map((c) => ({ grantId: c.grantId, systemId: c.systemId, role: roles.get(c.grantId)! })),
    systems,
  );
  // What toHoldView would read back, from what this transaction wrote (toSuspend is in grant id order).
  const view = newHoldView(hold, toSuspend, systemChanges);

  // Same transaction as the hold: the event exists iff the hold does.
  await deps.bus?.publish(trx, [
    createEvent({
      type: EventTypes.criticalAccessSuspended,
      source: EventSources.access,
      subject: request.resignationId,
      correlationId: trace.correlationId ?? request.resignationId,
      traceparent: trace.traceparent,
      time: now,
      data: { resignationId: request.resignationId, employeeId: request.employeeId, holdId: view.id, suspended: view.suspendedGrants },
    }),
  ]);
  // The audit entries commit with the hold; they take no lock (the sealer links them into the chain
  // after the commit: audit/seal-audit.ts), so holds in a burst do not queue on each other here.
  if (toSuspend.length > 0) {
    const reason = request.reason ?? `Access hold for resignation ${request.resignationId}`;
    await recordAudit(
      trx,
      by,
      toSuspend.map((c) => ({ at: now, employeeId: request.employeeId, grantId: c.grantId, systemId: c.systemId, from: c.from, to: c.to, reason, holdId: hold.id })),
    );
  }
  return { hold: view, created: true };
}

function newHoldView(hold: HoldRow, suspended: ReadonlyArray<{ grantId: string; systemId: string }>, systems: access.SystemChangeView[]): access.AccessHold {
  return {
    id: hold.id,
    resignationId: hold.resignation_id,
    employeeId: hold.employee_id,
    status: hold.status,
    suspendedGrants: suspended.map((c) => ({ grantId: c.grantId, system: c.systemId })),
    createdAt: hold.created_at.toISOString(),
    releasedAt: hold.released_at ? hold.released_at.toISOString() : null,
    systems,
  };
}

/**
 * The hold an earlier request created, if any. The same resignation for another employee, or an
 * Idempotency-Key reused for another resignation, is a conflicting request, not a repeat.
 */
async function findEarlierHold(db: AccessDb | AccessTx, request: access.SuspendAccessRequest, idempotencyKey: string | undefined): Promise<{ hold: HoldRow | undefined } | HoldRefused> {
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
    return { refused: conflict(`Idempotency-Key ${idempotencyKey} was already used for resignation ${byKey.resignation_id}`, { holdId: byKey.id }) };
  }
  const hold = rows[0];
  if (hold && hold.employee_id !== request.employeeId) {
    return { refused: conflict(`Resignation ${request.resignationId} already has an access hold for employee ${hold.employee_id}`, { holdId: hold.id }) };
  }
  return { hold };
}
