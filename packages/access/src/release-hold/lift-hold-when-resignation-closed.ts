import { ResignationRetained, EventSources, EventTypes } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription, type TraceContext } from '@ems/eventbus';
import { ACCESS_SCHEMA, type AccessTx } from '../db/access.db.ts';
import { lockIdentity } from '../db/locks.ts';
import { byEvent } from '../audit/actor.ts';
import { accessRestoredEvent, logReleased, releaseHoldInTransaction, type ReleaseHoldDeps, type ReleaseOutcome } from './release-hold.ts';

export const LIFT_HOLD_SUBSCRIBER = 'access.lift-hold-when-resignation-closed';

/**
 * Choreography: the resignation is off (HR retained the employee, or the employee withdrew) → lift the
 * resignation's hold.
 *
 * One transaction records the event as processed, releases the hold (the same core as
 * POST /api/access-holds/{id}/release, which publishes `accessRestored` with what it restored and
 * skipped) and, when there was nothing left to release, still answers with `accessRestored` (no grants)
 * so whoever tracks the case sees the outcome. A redelivered event changes and publishes nothing.
 *
 * No hold yet: the hold may still come (its event retried, or a dead letter replayed later). A hold
 * recorded as already released, suspending nothing, keeps it from ever being put on a closed case.
 * A transient error thrown is retried by the bus; when it gives up, the dead letter publishes
 * `accessRestorationFailed`.
 */
export function liftHoldWhenResignationClosed(deps: ReleaseHoldDeps & { bus: EventBus }): Subscription {
  const { db, bus, log, clock } = deps;
  return {
    name: LIFT_HOLD_SUBSCRIBER,
    types: [EventTypes.resignationRetained, EventTypes.resignationWithdrawn],
    async handle(event) {
      // Retained and withdrawn carry the same payload.
      const data = ResignationRetained.parse(event.data);
      const why = event.type === EventTypes.resignationRetained ? 'resignation retained' : 'resignation withdrawn';
      const trace: TraceContext = { correlationId: event.correlationid, traceparent: event.traceparent };
      const outcome = await db.transaction().execute(async (trx): Promise<ReleaseOutcome | 'no hold' | undefined> => {
        if (!(await firstDelivery(trx, ACCESS_SCHEMA, LIFT_HOLD_SUBSCRIBER, event.id))) return undefined;
        // The employee's lock first, as hold creation takes it: no hold can appear between the look and the record.
        const known = await lockIdentity(trx, data.employee.id);
        const hold = await trx.selectFrom('holds').select(['id', 'employee_id']).where('resignation_id', '=', data.resignationId).executeTakeFirst();
        if (!hold) {
          if (known) await recordReleasedHold(trx, deps, data.resignationId, data.employee.id, why);
          await bus.publish(trx, [accessRestoredEvent({ resignationId: data.resignationId, employeeId: data.employee.id, holdId: null, restored: [], skipped: [] }, trace, clock.now())]);
          return 'no hold';
        }
        // Audited as the Access service reacting, on behalf of whoever decided (or withdrew).
        const released = await releaseHoldInTransaction(trx, deps, hold, { reason: why }, trace, byEvent(data.decidedBy));
        if (!released.released) {
          // Released before (by an admin, or by the revocation): nothing more to restore.
          await bus.publish(trx, [accessRestoredEvent({ resignationId: data.resignationId, employeeId: hold.employee_id, holdId: hold.id, restored: [], skipped: [] }, trace, clock.now())]);
        }
        return released;
      });
      if (outcome === undefined) log.debug({ eventId: event.id }, 'closed-resignation event already handled');
      else if (outcome === 'no hold') log.info({ eventId: event.id, resignationId: data.resignationId }, 'no access hold to lift');
      else {
        logReleased(log, outcome);
        if (outcome.released) deps.wakeConnectors?.();
      }
    },
    async onDeadLetter(event, reason) {
      const resignationId = ResignationRetained.safeParse(event.data).data?.resignationId ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await db.transaction().execute((trx) => bus.publish(trx, [restorationFailed(event, resignationId, reason, clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up lifting the access hold');
    },
  };
}

/**
 * Records the resignation's hold as released before it ever suspended anything, so a hold requested
 * late for this closed resignation answers this one instead of suspending access (the caller holds
 * the employee's lock). An employee unknown here can never get a hold: the caller records nothing.
 */
async function recordReleasedHold(trx: AccessTx, deps: Pick<ReleaseHoldDeps, 'clock'>, resignationId: string, employeeId: string, why: string): Promise<void> {
  const now = deps.clock.now();
  await trx
    .insertInto('holds')
    .values({
      id: crypto.randomUUID(),
      resignation_id: resignationId,
      employee_id: employeeId,
      status: 'released',
      reason: `${why} before any hold`,
      created_at: now,
      released_at: now,
      release_reason: why,
    })
    .execute();
}

function restorationFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent({
    type: EventTypes.accessRestorationFailed,
    source: EventSources.access,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}
