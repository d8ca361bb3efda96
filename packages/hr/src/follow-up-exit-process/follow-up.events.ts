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
