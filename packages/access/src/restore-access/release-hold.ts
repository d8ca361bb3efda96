import { notFound, type Clock, type Logger } from '@ems/platform';
import type { access } from '@ems/contracts';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type EventBus, type TraceContext } from '@ems/eventbus';
import type { AccessDb, AccessTx } from '../db/access.db.ts';
import { lockIdentity } from '../db/locks.ts';
import { planRelease } from '../domain/hold.ts';
import type { AuditBy } from '../audit/actor.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { requester } from '../audit/actor.ts';
import { enqueueRestoreTasks } from '../connectors/enqueue-connector-tasks.ts';
import { toHoldView, type HoldRow } from '../read-holds/hold.view.ts';

export interface ReleaseHoldDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  /** When present, a release publishes `accessRestored` in its own transaction. */
  bus?: EventBus | undefined;
  /** Called after a commit that may have written connector tasks: the worker looks at once. */
  wakeConnectors?: (() => void) | undefined;
}

type AccessRestored = EventData<typeof EventTypes.accessRestored>;

export interface ReleaseOutcome {
  hold: HoldRow;
  /** false when the hold was released already (nothing changed, nothing published). */
  released: boolean;
  restored: AccessRestored['restored'];
  skipped: AccessRestored['skipped'];
  handedOver: number;
}

/**
 * Releases an access hold (e.g. the resignation was withdrawn): the grants it suspended and that are
 * still suspended by it go back to their prior status; anything changed since by someone else stays as
 * it is. If the employee has another active hold, the grants stay suspended under that one.
 * Releasing a released hold answers it unchanged. The changes are audited as made by `byFor(employeeId)`
 * (the hold's employee, known once the hold is found).
 */
export async function releaseHold(
  deps: ReleaseHoldDeps,
  holdId: string,
  byFor: (employeeId: string) => AuditBy,
  request: access.ReleaseHoldRequest = {},
  trace: TraceContext = {},
): Promise<access.AccessHold> {
  const { db, log } = deps;
  const found = await db.selectFrom('holds').selectAll().where('id', '=', holdId).executeTakeFirst();
  if (!found) throw notFound(`No access hold ${holdId}`);
  if (found.status === 'released') return toHoldView(db, found);

  const outcome = await db.transaction().execute((trx) => releaseHoldInTransaction(trx, deps, found, request, trace, byFor(found.employee_id)));
  logReleased(log, outcome);
  if (outcome.released) deps.wakeConnectors?.();
  return toHoldView(db, outcome.hold);
}

export function logReleased(log: Logger, outcome: ReleaseOutcome): void {
  if (!outcome.released) return;
  log.info(
    { holdId: outcome.hold.id, employeeId: outcome.hold.employee_id, restored: outcome.restored.length, skipped: outcome.skipped.length, handedOver: outcome.handedOver },
    'access hold released',
  );
}

/**
 * The release, inside the caller's transaction (an HTTP request's own, or an event handler's that
 * also records the event as processed). Restores, audits, marks the hold released and (with a bus)
 * publishes `accessRestored` naming exactly what was restored and what was skipped, and why —
 * all or nothing. A hold released meanwhile (a concurrent release) is answered as it is.
 */
export async function releaseHoldInTransaction(
  trx: AccessTx,
  deps: Pick<ReleaseHoldDeps, 'clock' | 'bus'>,
  found: Pick<HoldRow, 'id' | 'employee_id'>,
  request: access.ReleaseHoldRequest,
  trace: TraceContext,
  by: AuditBy,
): Promise<ReleaseOutcome> {
  await lockIdentity(trx, found.employee_id);
  const hold = await trx.selectFrom('holds').selectAll().where('id', '=', found.id).forNoKeyUpdate().executeTakeFirstOrThrow();
  if (hold.status === 'released') return { hold, released: false, restored: [], skipped: [], handedOver: 0 };

  const heldGrants = await trx.selectFrom('hold_grants').select(['grant_id', 'prior_status']).where('hold_id', '=', hold.id).execute();
  const current =
    heldGrants.length === 0
      ? []
      : await trx
          .selectFrom('grants')
          .select(['id', 'system_id', 'status', 'suspended_by_hold'])
          .where(
            'id',
            'in',
            heldGrants.map((h) => h.grant_id),
          )
          .orderBy('id')
          .forUpdate()
          .execute();
  const successor = await trx
    .selectFrom('holds')
    .select('id')
    .where('employee_id', '=', hold.employee_id)
    .where('status', '=', 'active')
    .where('id', '!=', hold.id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const plan = planRelease({
    holdId: hold.id,
    heldGrants: heldGrants.map((h) => ({ grantId: h.grant_id, priorStatus: h.prior_status })),
    current: current.map((g) => ({ id: g.id, systemId: g.system_id, status: g.status, suspendedByHold: g.suspended_by_hold })),
    successorHoldId: successor?.id ?? null,
  });

  const now = deps.clock.now();
  const reason = request.reason ?? `Access hold for resignation ${hold.resignation_id} released`;
  for (const change of plan.restore) {
    await trx
      .updateTable('grants')
      .set({ status: change.to, suspended_by_hold: null, updated_at: now })
      .where('id', '=', change.grantId)
      .execute();
  }
  if (plan.handOver.length > 0 && successor) {
    const prior = new Map(heldGrants.map((h) => [h.grant_id, h.prior_status]));
    await trx
      .insertInto('hold_grants')
      .values(plan.handOver.map((c) => ({ hold_id: successor.id, grant_id: c.grantId, prior_status: prior.get(c.grantId) ?? 'active' })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await trx
      .updateTable('grants')
      .set({ suspended_by_hold: successor.id, updated_at: now })
      .where(
        'id',
        'in',
        plan.handOver.map((c) => c.grantId),
      )
      .execute();
  }
  const audit = [
    ...plan.restore.map((c) => ({ change: c, holdId: hold.id, reason })),
    ...plan.handOver.map((c) => ({ change: c, holdId: successor?.id ?? null, reason: `${reason}; still suspended by access hold ${successor?.id ?? ''}` })),
  ];
  await recordAudit(
    trx,
    by,
    audit.map(({ change, holdId: auditHold, reason: why }) => ({
      at: now,
      employeeId: hold.employee_id,
      grantId: change.grantId,
      systemId: change.systemId,
      from: change.from,
      to: change.to,
      reason: why,
      holdId: auditHold,
    })),
  );
  // The systems the hold's suspend reached get their restore, in this transaction (none while another hold takes over).
  await enqueueRestoreTasks(
    trx,
    { holdId: hold.id, resignationId: hold.resignation_id, employeeId: hold.employee_id, trace, requestedBy: requester(by), at: now },
    plan.restore.map((c) => c.grantId),
    plan.handOver.length > 0,
  );
  const released = await trx
    .updateTable('holds')
    .set({ status: 'released', released_at: now, release_reason: request.reason ?? null })
    .where('id', '=', hold.id)
    .returningAll()
    .executeTakeFirstOrThrow();

  const restored = plan.restore.map((c) => ({ grantId: c.grantId, system: c.systemId }));
  // A held grant always exists (hold_grants references it); 'unknown' only keeps the type honest.
  const skipped = plan.skipped.map((s) => ({ grantId: s.grantId, system: s.systemId ?? 'unknown', reason: s.reason }));
  await deps.bus?.publish(trx, [
    accessRestoredEvent(
      { resignationId: hold.resignation_id, employeeId: hold.employee_id, holdId: hold.id, restored, skipped },
      trace,
      now,
    ),
  ]);
  return { hold: released, released: true, restored, skipped, handedOver: plan.handOver.length };
}

/** The outcome event of lifting a hold, on the case's correlation id (the resignation's when the caller gave none). */
export function accessRestoredEvent(data: AccessRestored, trace: TraceContext, at: Date) {
  return createEvent({
    type: EventTypes.accessRestored,
    source: EventSources.access,
    subject: data.resignationId,
    correlationId: trace.correlationId ?? data.resignationId,
    traceparent: trace.traceparent,
    time: at,
    data,
  });
}
