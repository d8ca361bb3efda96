import { EventSources, EventTypes, ExitConfirmed, ResignationRetained, ResignationWithdrawn, type EventData } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { NOTIFICATION_SCHEMA } from '../db/notification.db.ts';
import type { DecisionFacts } from '../domain/decision-notice.ts';
import { announceDecision } from './announce-decision.ts';
import { PermanentError } from '@ems/platform';

export const ANNOUNCE_DECISION_SUBSCRIBER = 'notification.announce-decision-when-decided';

/**
 * Choreography: a resignation was decided (retained, withdrawn, exit confirmed) → the use case
 * (announce-decision.ts) in the transaction that marks the event processed. A notice that cannot be
 * rendered publishes decisionAnnouncementFailed there; a dead letter publishes it too.
 */
export function announceDecisionWhenDecided(ctx: NotificationContext & { bus: EventBus }, caseUrl: ((resignationId: string) => string) | undefined): Subscription {
  const { bus, log } = ctx;
  return {
    name: ANNOUNCE_DECISION_SUBSCRIBER,
    types: [EventTypes.resignationRetained, EventTypes.resignationWithdrawn, EventTypes.exitConfirmed],
    async handle(event) {
      const facts = decisionFacts(event);
      const announced = await announceDecision(ctx, facts, {
        caseUrl: caseUrl ? caseUrl(facts.resignationId) : null,
        origin: { correlationId: event.correlationid, traceparent: event.traceparent, causationId: event.id },
        first: (trx) => firstDelivery(trx, NOTIFICATION_SCHEMA, ANNOUNCE_DECISION_SUBSCRIBER, event.id),
        onUnrenderable: (trx, reason) => bus.publish(trx, [announcementFailed(event, facts.resignationId, reason, ctx.clock.now())]),
      });
      if (announced.outcome === 'overtaken') {
        log.info({ eventId: event.id, resignationId: facts.resignationId, revision: facts.revision, newer: announced.newer }, 'exit confirmation overtaken by a newer revision; not announced');
      } else if (announced.outcome === 'unrenderable') {
        log.warn({ eventId: event.id, resignationId: facts.resignationId, reason: announced.reason }, 'decision not announced');
      }
    },
    async onDeadLetter(event, reason) {
      // The payload may be what made the event a dead letter: the subject names the case too.
      const resignationId = resignationIdOf(event) ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await ctx.db.transaction().execute((trx) => bus.publish(trx, [announcementFailed(event, resignationId, reason, ctx.clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up announcing the decision');
    },
  };
}

/** What the notices are written from, whichever of the three events it is. */
function decisionFacts(event: CloudEvent): DecisionFacts {
  switch (event.type) {
    case EventTypes.resignationRetained:
      return { ...common(ResignationRetained.parse(event.data)), decision: 'retained', revision: 1 };
    case EventTypes.resignationWithdrawn:
      return { ...common(ResignationWithdrawn.parse(event.data)), decision: 'withdrawn', revision: 1 };
    case EventTypes.exitConfirmed: {
      const data = ExitConfirmed.parse(event.data);
      return { ...common(data), decision: 'exit_confirmed', revision: data.revision, lastWorkingDay: data.lastWorkingDay, revokeAt: data.revokeAt };
    }
    default:
      throw new PermanentError(`${ANNOUNCE_DECISION_SUBSCRIBER} does not handle ${event.type}`);
  }
}

/** The resignation id of a (possibly malformed) decision event, if it has one. */
function resignationIdOf(event: CloudEvent): string | undefined {
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || !('resignationId' in data)) return undefined;
  return typeof data.resignationId === 'string' ? data.resignationId : undefined;
}

function common(data: EventData<typeof EventTypes.resignationRetained>): Omit<DecisionFacts, 'decision' | 'revision'> {
  return {
    resignationId: data.resignationId,
    employee: { name: data.employee.name, email: data.employee.email },
    manager: data.manager ? { name: data.manager.name, email: data.manager.email } : null,
    note: data.note,
  };
}

function announcementFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent<EventData<typeof EventTypes.decisionAnnouncementFailed>>({
    type: EventTypes.decisionAnnouncementFailed,
    source: EventSources.notification,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, ...announcementOf(cause), reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}

/** The decision and revision a decision event announces, when it says (an unreadable one does not). */
function announcementOf(cause: CloudEvent): { decision?: 'retained' | 'withdrawn' | 'exit_confirmed'; revision?: number } {
  const decision =
    cause.type === EventTypes.resignationRetained ? 'retained' : cause.type === EventTypes.resignationWithdrawn ? 'withdrawn' : cause.type === EventTypes.exitConfirmed ? 'exit_confirmed' : undefined;
  if (!decision) return {};
  const revision = (cause.data as { revision?: unknown } | null)?.revision;
  return { decision, revision: typeof revision === 'number' && Number.isInteger(revision) && revision >= 1 ? revision : 1 };
}
