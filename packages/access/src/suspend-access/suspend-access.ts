import { conflict, notFound, type Clock, type HttpProblem, type Logger } from '@ems/platform';
import type { access } from '@ems/contracts';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type EventBus, type TraceContext } from '@ems/eventbus';
import type { AccessDb, AccessTx } from '../db/access.db.ts';
import { planHold } from '../domain/hold.ts';
import { toHoldView, type HoldRow } from '../read-holds/hold.view.ts';
import type { AuditBy } from '../audit/actor.ts';
import { recordAuditEntries } from '../audit/record-audit.ts';
import { requester } from '../audit/actor.ts';
import { enqueueSuspendTasksOfMany } from '../connectors/enqueue-connector-tasks.ts';

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
  const { db } = deps;
  // No read for a repeat before the transaction: the transaction looks for it anyway once it holds the
  // identity lock, and nearly every request is a first one (a read and a commit per hold saved).
  const outcome = await db.transaction().execute((trx) => suspendAccessInTransaction(trx, deps, request, idempotencyKey, trace, by));
  if ('refused' in outcome) throw outcome.refused;
  holdCommitted(deps, outcome);
  return outcome;
}

/**
 * After the transaction that wrote a hold has committed (whichever adapter ran it): the connector worker
 * looks at once for the suspend tasks it wrote, and the hold is logged. A repeat did neither and says nothing.
 */
export function holdCommitted(deps: Pick<SuspendAccessDeps, 'log' | 'wakeConnectors'>, result: SuspendAccessResult): void {
  if (!result.created) return;
  deps.wakeConnectors?.();
  deps.log.info(
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
  const [outcome] = await suspendAccessTogetherInTransaction(trx, deps, [{ request, idempotencyKey, trace, by }]);
  return outcome!;
}

/** One request for a hold, as suspendAccess takes it. */
export interface HoldAsk {
  request: access.SuspendAccessRequest;
  idempotencyKey: string | undefined;
  trace: TraceContext;
  by: AuditBy;
}

/**
 * The core for several requests at once (holds-together.ts; one request is a batch of one), each
 * answered as if it had come alone — in one transaction and a fixed number of statements, whatever the
 * batch's size: the identities locked (in employee order), the holds inserted, the grants and systems
 * read, the grants suspended, the connector tasks, the events and the audit rows written, each in one
 * statement for all. A request that creates no hold (an unknown employee, a repeat, a conflict) or that
 * names a resignation, employee or key an earlier request of the batch named is answered alone after
 * them, in the same transaction, so it sees what they wrote.
 */
export async function suspendAccessTogetherInTransaction(
  trx: AccessTx,
  deps: Pick<SuspendAccessDeps, 'clock' | 'bus'>,
  asks: readonly HoldAsk[],
): Promise<SuspendAccessOutcome[]> {
  const outcomes: Array<SuspendAccessOutcome | undefined> = asks.map(() => undefined);
  const seen = new Set<string>();
  const first: number[] = [];
  const later: number[] = [];
  asks.forEach(({ request, idempotencyKey }, i) => {
    const names = [`r:${request.resignationId}`, `e:${request.employeeId}`, ...(idempotencyKey === undefined ? [] : [`k:${idempotencyKey}`])];
    if (names.some((n) => seen.has(n))) later.push(i);
    else first.push(i);
    for (const n of names) seen.add(n);
  });

  // An employee unknown here: 404 — unless the resignation or key already has a hold (answered alone below).
  const known = await lockIdentities(trx, first.map((i) => asks[i]!.request.employeeId));
  const candidates = first.filter((i) => known.has(asks[i]!.request.employeeId));

  // The holds first: a repeat (the same resignation or Idempotency-Key, committed by whoever held the
  // identity lock before us, or sent for another employee) conflicts here and is read back instead —
  // no read for it beforehand in the usual case, a first request.
  const now = deps.clock.now();
  const inserted =
    candidates.length === 0
      ? []
      : await trx
          .insertInto('holds')
          .values(
            candidates.map((i) => {
              const { request, idempotencyKey } = asks[i]!;
              return {
                id: crypto.randomUUID(),
                resignation_id: request.resignationId,
                employee_id: request.employeeId,
                reason: request.reason ?? null,
                created_at: now,
                idempotency_key: idempotencyKey ?? null,
              };
            }),
          )
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .execute();
  const holdOf = new Map(inserted.map((h) => [h.resignation_id, h]));
  const created = candidates.filter((i) => holdOf.has(asks[i]!.request.resignationId));

  if (created.length > 0) {
    const holds = created.map((i) => ({ ask: asks[i]!, hold: holdOf.get(asks[i]!.request.resignationId)! }));
    const grants = await trx
      .selectFrom('grants')
      .select(['id', 'employee_id', 'system_id', 'status', 'suspended_by_hold', 'role'])
      .where('employee_id', 'in', holds.map((h) => h.hold.employee_id))
      .orderBy('id')
      .forUpdate()
      .execute();
    // Read once for the plans, the connector tasks and the views (a handful of rows).
    const systems = await trx.selectFrom('systems').select(['id', 'name', 'critical', 'connector']).execute();
    const roles = new Map(grants.map((g) => [g.id, g.role]));
    const planned = holds.map((h) => ({
      ...h,
      toSuspend: planHold(
        grants
          .filter((g) => g.employee_id === h.hold.employee_id)
          .map((g) => ({ id: g.id, systemId: g.system_id, status: g.status, suspendedByHold: g.suspended_by_hold })),
        systems,
      ),
    }));

    const holdGrants = planned.flatMap((p) => p.toSuspend.map((c) => ({ hold_id: p.hold.id, grant_id: c.grantId, prior_status: c.from })));
    if (holdGrants.length > 0) {
      await trx.insertInto('hold_grants').values(holdGrants).execute();
      // Each grant in its own hold's name: the one just recorded in hold_grants.
      await trx
        .updateTable('grants')
        .from('hold_grants')
        .set((eb) => ({ status: 'suspended', suspended_by_hold: eb.ref('hold_grants.hold_id'), updated_at: now }))
        .whereRef('hold_grants.grant_id', '=', 'grants.id')
        .where('hold_grants.hold_id', 'in', planned.filter((p) => p.toSuspend.length > 0).map((p) => p.hold.id))
        .execute();
    }
    // Each critical connected system's part, in this transaction: the tasks exist iff the hold does.
    const systemChanges = await enqueueSuspendTasksOfMany(
      trx,
      planned.map(({ ask, hold, toSuspend }) => ({
        origin: { holdId: hold.id, resignationId: ask.request.resignationId, employeeId: ask.request.employeeId, trace: ask.trace, requestedBy: requester(ask.by), at: now },
        suspended: toSuspend.map((c) => ({ grantId: c.grantId, systemId: c.systemId, role: roles.get(c.grantId)! })),
      })),
      systems,
    );
    // What toHoldView would read back, from what this transaction wrote (toSuspend is in grant id order).
    const views = planned.map((p, k) => newHoldView(p.hold, p.toSuspend, systemChanges[k]!));

    // Same transaction as the holds: each event exists iff its hold does.
    await deps.bus?.publish(
      trx,
      planned.map(({ ask: { request, trace } }, k) =>
        createEvent({
          type: EventTypes.criticalAccessSuspended,
          source: EventSources.access,
          subject: request.resignationId,
          correlationId: trace.correlationId ?? request.resignationId,
          traceparent: trace.traceparent,
          time: now,
          data: { resignationId: request.resignationId, employeeId: request.employeeId, holdId: views[k]!.id, suspended: views[k]!.suspendedGrants },
        }),
      ),
    );
    // The audit entries commit with the holds; they take no lock (the sealer links them into the chain
    // after the commit: audit/seal-audit.ts), so holds in a burst do not queue on each other here.
    const audited = planned.flatMap(({ ask: { request, by }, hold, toSuspend }) => {
      const reason = request.reason ?? `Access hold for resignation ${request.resignationId}`;
      return toSuspend.map((c) => ({ change: { at: now, employeeId: request.employeeId, grantId: c.grantId, systemId: c.systemId, from: c.from, to: c.to, reason, holdId: hold.id }, by }));
    });
    if (audited.length > 0) await recordAuditEntries(trx, audited);
    created.forEach((i, k) => (outcomes[i] = { hold: views[k]!, created: true }));
  }

  // The rest, one at a time: no new hold (unknown employee, a repeat, a conflict), or named twice in the batch.
  for (const i of first) outcomes[i] ??= await withoutNewHold(trx, asks[i]!, known.has(asks[i]!.request.employeeId));
  for (const i of later) [outcomes[i]] = await suspendAccessTogetherInTransaction(trx, deps, [asks[i]!]);
  return outcomes.map((o) => o!);
}

/** A request that created no hold: the hold an earlier request created (a repeat), or why not (404, 409). */
async function withoutNewHold(trx: AccessTx, { request, idempotencyKey }: HoldAsk, identityKnown: boolean): Promise<SuspendAccessOutcome> {
  const earlier = await findEarlierHold(trx, request, idempotencyKey);
  if ('refused' in earlier) return earlier;
  if (earlier.hold) return { hold: await toHoldView(trx, earlier.hold), created: false };
  if (!identityKnown) return { refused: notFound(`Employee ${request.employeeId} has no identity in the access directory`) };
  throw new Error(`hold for resignation ${request.resignationId} conflicted, but no conflicting hold is visible`);
}

/** The identities of `employeeIds` that exist, locked against concurrent holds (one statement, in employee order). */
async function lockIdentities(trx: AccessTx, employeeIds: readonly string[]): Promise<Set<string>> {
  if (employeeIds.length === 0) return new Set();
  const rows = await trx.selectFrom('identities').select('employee_id').where('employee_id', 'in', [...employeeIds]).orderBy('employee_id').forNoKeyUpdate().execute();
  return new Set(rows.map((r) => r.employee_id));
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
