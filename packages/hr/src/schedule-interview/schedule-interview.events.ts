import { EventSources, EventTypes, type CloudEvent, type EventData, type InviteNotSent } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import { eventCause, type EventCause } from '../interviews/event-cause.ts';
import type { InterviewRow } from '../interviews/interview.view.ts';

/** `notSent`: the invites refused as they were queued (outbox.ts invitesNotSent); the field is left out when none was. */
export function exitInterviewScheduled(row: InterviewRow, cause: EventCause, notSent: readonly InviteNotSent[]): CloudEvent<EventData<typeof EventTypes.exitInterviewScheduled>> {
  return createEvent({
    type: EventTypes.exitInterviewScheduled,
    source: EventSources.hr,
    subject: row.resignation_id,
    correlationId: cause.correlationId,
    traceparent: cause.traceparent,
    data: {
      resignationId: row.resignation_id,
      interviewId: row.id,
      employeeId: row.employee_id,
      hrPartnerId: row.hr_partner_id,
      start: row.starts_at.toISOString(),
      end: row.ends_at.toISOString(),
      timezone: row.timezone,
      ...(notSent.length ? { invitesNotSent: [...notSent] } : {}),
    },
  });
}

const MAX_REASON = 2000;

export function exitInterviewSchedulingFailed(
  resignationId: string,
  reason: string,
  causedBy: CloudEvent,
): CloudEvent<EventData<typeof EventTypes.exitInterviewSchedulingFailed>> {
  return createEvent({
    type: EventTypes.exitInterviewSchedulingFailed,
    source: EventSources.hr,
    subject: resignationId,
    ...eventCause(causedBy),
    data: { resignationId, reason: (reason.trim() || 'unknown error').slice(0, MAX_REASON), causationId: causedBy.id },
  });
}
