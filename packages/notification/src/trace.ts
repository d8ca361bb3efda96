const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Who asked for an email: carried into the event its outcome publishes. */
export interface EmailOrigin {
  /** The case's correlation id; the resignation id when the caller gave none. */
  correlationId?: string | undefined;
  /** W3C trace context of the caller, continued by the outcome event. */
  traceparent?: string | undefined;
  /** The event the email reacts to (choreography); none for HTTP requests. */
  causationId?: string | undefined;
}

/**
 * The case's correlation id and trace context from request headers (x-correlation-id, traceparent).
 * A malformed traceparent is ignored, as W3C Trace Context asks: the outcome event then starts a new trace.
 */
export function originFromHeaders(headers: Record<string, string | string[] | undefined>): EmailOrigin {
  const correlationId = single(headers['x-correlation-id']);
  const traceparent = single(headers.traceparent);
  return {
    correlationId: correlationId && correlationId.length <= 200 ? correlationId : undefined,
    traceparent: traceparent && TRACEPARENT.test(traceparent) ? traceparent : undefined,
  };
}

function single(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() ? s.trim() : undefined;
}
