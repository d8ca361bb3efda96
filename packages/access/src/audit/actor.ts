import type { Actor } from '@ems/platform';

/**
 * Who a change is recorded for, in the audit: the actor who made it and, when they acted for someone
 * (a service for the person who decided), that someone.
 */
export interface AuditBy {
  actor: Actor;
  onBehalfOf: Actor | null;
}

const accessService = (client: string): Actor => ({ id: 'access', kind: 'service', name: null, role: 'service', client });

/** The Access service reacting to a bus event (choreography). */
export const EVENTS_ACTOR: Actor = accessService('events');
/** The Access service's revocation timer firing a scheduled revocation. */
export const TIMER_ACTOR: Actor = accessService('timer');
/** The Access service's connector worker carrying a change to a connected system. */
export const CONNECTOR_ACTOR: Actor = accessService('connectors');
/** What migration 4 recorded on the rows written before actors were recorded. */
export const BACKFILLED_ACTOR: Actor = accessService('access');

/** A change made reacting to an event: on behalf of whoever the event says decided, if it says. */
export function byEvent(decidedBy: Actor | null | undefined): AuditBy {
  return { actor: EVENTS_ACTOR, onBehalfOf: decidedBy ?? null };
}

/** Whom a change acts for, to remember on a row that is acted on later (a scheduled revocation). */
export function requester(by: AuditBy): Actor {
  return by.onBehalfOf ?? by.actor;
}
