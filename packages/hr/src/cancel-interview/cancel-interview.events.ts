import { EventSources, EventTypes, type CloudEvent, type EventData } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import type { hr } from '@ems/contracts';
import { eventCause, type EventCause } from '../interviews/event-cause.ts';

/** Why nothing was cancelled, when nothing was: the contract's one list. */
export type CancellationSkipped = hr.CancellationSkipped;

const MAX_REASON = 500;
const MAX_FAILURE = 2000;

export function exitInterviewCancelled(
  what: { resignationId: string; interviewId: string | null; reason: string; skipped?: CancellationSkipped | undefined },
  cause: EventCause,
  at: Date,
): CloudEvent<EventData<typeof EventTypes.exitInterviewCancelled>> {
  return createEvent({
    type: EventTypes.exitInterviewCancelled,
    source: EventSources.hr,
    subject: what.resignationId,
    correlationId: cause.correlationId,
    traceparent: cause.traceparent,
    time: at,
    data: {
      resignationId: what.resignationId,
      interviewId: what.interviewId,
      reason: what.reason.slice(0, MAX_REASON),
      ...(what.skipped ? { skipped: what.skipped } : {}),
    },
  });
}

export function exitInterviewCancellationFailed(
  resignationId: string,
  reason: string,
  causedBy: CloudEvent,
  at: Date,
): CloudEvent<EventData<typeof EventTypes.exitInterviewCancellationFailed>> {
  return createEvent({
    type: EventTypes.exitInterviewCancellationFailed,
    source: EventSources.hr,
    subject: resignationId,
    ...eventCause(causedBy),
    time: at,
    data: { resignationId, reason: (reason.trim() || 'unknown error').slice(0, MAX_FAILURE), causationId: causedBy.id },
  });
}
