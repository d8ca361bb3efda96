import type { HoldTrace } from './create-hold/create-hold.ts';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The case's correlation id and trace context from request headers (x-correlation-id, traceparent).
 * A malformed traceparent is ignored, as W3C Trace Context asks: the event then starts a new trace.
 */
export function traceFromHeaders(headers: Record<string, string | string[] | undefined>): HoldTrace {
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
