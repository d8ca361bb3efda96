import { randomBytes, randomUUID } from 'node:crypto';
import { CloudEvent as CloudEventSchema, type CloudEvent } from '@ems/contracts/events';
import type { EventCatalogue } from './port.ts';

export interface NewEvent<D> {
  type: string;
  source: string;
  /** The resignation id the event is about. */
  subject: string;
  correlationId: string;
  data: D;
  /** Continue a trace (the traceparent of the event being handled); a new trace otherwise. */
  traceparent?: string | undefined;
  id?: string;
  time?: Date;
}

/** Builds a CloudEvents 1.0 envelope. The id is unique per event; pass one to make a retried producer idempotent. */
export function createEvent<D>(e: NewEvent<D>): CloudEvent<D> {
  return {
    specversion: '1.0',
    id: e.id ?? randomUUID(),
    source: e.source,
    type: e.type,
    subject: e.subject,
    time: (e.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    correlationid: e.correlationId,
    traceparent: e.traceparent ? childTraceparent(e.traceparent) : newTraceparent(),
    data: e.data,
  };
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** Same trace, new span: the consumer's work is a child of the producer's. */
export function childTraceparent(parent: string): string {
  const [version, traceId, , flags] = parent.split('-');
  if (!version || !traceId || !flags) return newTraceparent();
  return `${version}-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}

/** A case's correlation id and W3C trace context, as a request carries them into the events it causes. */
export interface TraceContext {
  /** The case's correlation id, when the caller gave one. */
  correlationId?: string | undefined;
  /** The caller's W3C trace context, continued by the events. */
  traceparent?: string | undefined;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_CORRELATION_ID = 200;

/**
 * The trace context of an HTTP request, from its `x-correlation-id` and `traceparent` headers. A
 * malformed traceparent is ignored, as W3C Trace Context asks: the events then start a new trace.
 */
export function traceContextFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): TraceContext {
  const correlationId = single(headers['x-correlation-id']);
  const traceparent = single(headers.traceparent);
  return {
    correlationId: correlationId && correlationId.length <= MAX_CORRELATION_ID ? correlationId : undefined,
    traceparent: traceparent && TRACEPARENT.test(traceparent) ? traceparent : undefined,
  };
}

function single(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() ? s.trim() : undefined;
}

export type Validation = { ok: true; event: CloudEvent } | { ok: false; reason: string };

/** Checks the envelope and the payload against the catalogue; the reason names what is wrong. */
export function validateEvent(raw: unknown, catalogue: EventCatalogue): Validation {
  const envelope = CloudEventSchema.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, reason: `invalid CloudEvents envelope: ${envelope.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  const schema = catalogue[envelope.data.type];
  if (!schema) return { ok: false, reason: `unknown event type ${envelope.data.type}` };
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) {
    return { ok: false, reason: `invalid ${envelope.data.type} payload: ${data.error.issues.map((i) => `data.${i.path.join('.')}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, event: { ...envelope.data, data: data.data } };
}
