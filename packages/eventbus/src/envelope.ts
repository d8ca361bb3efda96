import { randomFillSync, randomUUID } from 'node:crypto';
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
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/** Same trace, new span: the consumer's work is a child of the producer's. */
export function childTraceparent(parent: string): string {
  const [version, traceId, , flags] = parent.split('-');
  if (!version || !traceId || !flags) return newTraceparent();
  return `${version}-${traceId}-${randomHex(8)}-${flags}`;
}

/**
 * Trace and span ids: random bytes taken in turn from a pool filled 4 KiB at a time (as Node's randomUUID buffers its
 * own), each byte used once. Two randomBytes calls per event were ≈ 1 % of the service thread in an orchestrated burst.
 */
const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;
function randomHex(bytes: number): string {
  if (randomAt + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const hex = randomPool.toString('hex', randomAt, randomAt + bytes);
  randomAt += bytes;
  return hex;
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

/** The largest event the bus carries (its JSON, in bytes): refused at publish, dead-lettered on receipt. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** How deeply an event's JSON may nest. */
export const MAX_EVENT_DEPTH = 32;

/**
 * What must hold of any message before its envelope is read: a JSON object, not huge, not absurdly deep,
 * and every text in it storable — a NUL or a lone UTF-16 surrogate cannot be stored in PostgreSQL, so a
 * handler would fail on it at every attempt. Undefined when it holds; otherwise what is wrong, naming where.
 */
export function checkMessageShape(raw: unknown, bytes?: number): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return `invalid CloudEvents envelope: the message is ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`}, not a JSON object`;
  }
  let size = bytes;
  if (size === undefined) {
    try {
      size = Buffer.byteLength(JSON.stringify(raw));
    } catch (err) {
      return `not serialisable as JSON: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (size > MAX_EVENT_BYTES) return `too large: ${size} bytes of JSON (at most ${MAX_EVENT_BYTES})`;
  return unstorable(raw, '', 0);
}

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === 'string') {
    const m = UNSTORABLE.exec(value);
    if (!m) return undefined;
    const what = m[0] === '\0' ? 'a NUL character (U+0000)' : `a lone UTF-16 surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()})`;
    return `${path || '(root)'}: contains ${what}, which cannot be stored`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_EVENT_DEPTH) return `${path || '(root)'}: nested more than ${MAX_EVENT_DEPTH} levels deep`;
  const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [key, v] of entries) {
    const at = path ? `${path}.${key}` : key;
    const inKey = unstorable(key, path ? `${path} (a key)` : '(a key)', depth + 1);
    if (inKey) return inKey;
    const inValue = unstorable(v, at, depth + 1);
    if (inValue) return inValue;
  }
  return undefined;
}

/**
 * Checks the message's shape (see checkMessageShape), the envelope and the payload against the
 * catalogue; the reason names what is wrong. `bytes`: the message's size as received, when known.
 */
export function validateEvent(raw: unknown, catalogue: EventCatalogue, bytes?: number): Validation {
  const shape = checkMessageShape(raw, bytes);
  if (shape) return { ok: false, reason: shape };
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
