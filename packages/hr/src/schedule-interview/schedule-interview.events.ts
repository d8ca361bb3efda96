import { EventSources, EventTypes, type CloudEvent, type EventData } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import type { InterviewRow } from '../interviews/interview.view.ts';

/** What an outcome event continues: the case's correlation id and, when known, the caller's trace. */
export interface EventCause {
  correlationId: string;
  traceparent?: string | undefined;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The cause of an HTTP request: its x-correlation-id (else the resignation id) and a well-formed traceparent, if any. */
export function httpCause(resignationId: string, headers: { correlationId?: string | undefined; traceparent?: string | undefined }): EventCause {
  const correlationId = headers.correlationId?.trim() || resignationId;
  const traceparent = headers.traceparent && TRACEPARENT.test(headers.traceparent) ? headers.traceparent : undefined;
  return { correlationId, traceparent };
}

/** The cause of an event being handled: same case, same trace. */
export function eventCause(event: CloudEvent): EventCause {
  return { correlationId: event.correlationid, traceparent: event.traceparent };
}

export function exitInterviewScheduled(row: InterviewRow, cause: EventCause): CloudEvent<EventData<typeof EventTypes.exitInterviewScheduled>> {
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
