import { EventSources, EventTypes, type CloudEvent, type EventData } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import type { FollowUp } from '../domain/follow-ups.ts';
import type { EventCause } from '../interviews/event-cause.ts';

export function followUpSent(
  resignationId: string,
  followUp: FollowUp,
  email: { to: string; emailId: string },
  cause: EventCause,
  at: Date,
): CloudEvent<EventData<typeof EventTypes.followUpSent>> {
  return createEvent({
    type: EventTypes.followUpSent,
    source: EventSources.hr,
    subject: resignationId,
    correlationId: cause.correlationId,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, milestone: followUp.milestone, level: followUp.level, dueAt: followUp.dueAt.toISOString(), to: email.to, emailId: email.emailId },
  });
}

/** A follow-up HR recorded without an email (nobody to send it to, or Notification refused it): the case's timeline shows it in both modes. */
export function followUpSkipped(resignationId: string, followUp: FollowUp, reason: string, cause: EventCause, at: Date): CloudEvent<EventData<typeof EventTypes.followUpSkipped>> {
  return createEvent({
    type: EventTypes.followUpSkipped,
    source: EventSources.hr,
    subject: resignationId,
    correlationId: cause.correlationId,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, milestone: followUp.milestone, level: followUp.level, dueAt: followUp.dueAt.toISOString(), reason },
  });
}
