import type { CloudEvent } from '@ems/contracts/events';
import type { TraceContext } from '@ems/eventbus';

/** What an outcome event continues: the case's correlation id and, when known, the caller's trace. */
export interface EventCause {
  correlationId: string;
  traceparent?: string | undefined;
}

/** The cause of an HTTP request: its trace context (see traceContextFromHeaders), correlated by the resignation id when it names no case. */
export function httpCause(resignationId: string, trace: TraceContext): EventCause {
  return { correlationId: trace.correlationId ?? resignationId, traceparent: trace.traceparent };
}

/** The cause of an event being handled: same case, same trace. */
export function eventCause(event: CloudEvent): EventCause {
  return { correlationId: event.correlationid, traceparent: event.traceparent };
}
