import { z } from 'zod';
import { events } from '@ems/contracts';
import type { EventCatalogue } from '@ems/eventbus';

/**
 * The AsyncAPI 3.0 document of the event bus, generated from the zod schemas: one channel per event
 * type (its address is the type name), the CloudEvents envelope around each payload, who sends each
 * event and who receives it in choreography. `docs/asyncapi.json` is this, checked in (a test keeps
 * them equal; `npm run docs:asyncapi` rewrites it).
 */

/** A batch's events (about a chunk, not a case): the exits tracker's, not the case tracker's. */
const EXIT_CHUNK_EVENTS = new Set<string>([events.EventTypes.involuntaryExitsStarted, events.EventTypes.exitAccessSuspended, events.EventTypes.exitNoticesSent]);

/** Core subscribers in choreography: subscriber name → the types it receives. */
const CORE_SUBSCRIBERS: Record<string, { service: string; types: string[] }> = {
  'notification.notify-manager-when-resignation-submitted': { service: 'notification', types: [events.EventTypes.resignationSubmitted] },
  'hr.schedule-interview-when-resignation-submitted': { service: 'hr', types: [events.EventTypes.resignationSubmitted] },
  'access.suspend-access-when-resignation-submitted': { service: 'access', types: [events.EventTypes.resignationSubmitted] },
  'ems.track-reactions-when-reported': {
    service: 'ems',
    types: Object.values(events.EventTypes).filter((t) => t !== events.EventTypes.resignationSubmitted && !EXIT_CHUNK_EVENTS.has(t)),
  },
  // Involuntary and mass exits (per chunk of ≤500 people): Access suspends, then Notification tells; EMS tracks both.
  'access.suspend-access-when-exits-started': { service: 'access', types: [events.EventTypes.involuntaryExitsStarted] },
  'notification.tell-exit-when-access-suspended': { service: 'notification', types: [events.EventTypes.exitAccessSuspended] },
  'ems.track-exits-when-reported': { service: 'ems', types: [events.EventTypes.exitAccessSuspended, events.EventTypes.exitNoticesSent] },
};

/** 'com.ems.hr.exit-interview-scheduled.v1' → 'ExitInterviewScheduledV1'; 'com.ems.resignation.submitted.v1' → 'ResignationSubmittedV1' */
function messageName(type: string): string {
  const parts = type.replace(/^com\.ems\./, '').split('.');
  const version = parts.pop()!;
  // The first part names the publishing service — except `resignation`, the case itself.
  const words = (parts[0] === 'resignation' ? parts : parts.slice(1)).join('-').split('-');
  return `${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}${version.toUpperCase()}`;
}

/** 'com.ems.hr.x.v1' → 'hr'; 'com.ems.resignation.x.v1' → 'ems' (the case owner). */
function publisherOf(type: string): string {
  const area = type.split('.')[2] ?? 'ems';
  // `exit`: EMS's own involuntary exits.
  return area === 'resignation' || area === 'exit' ? 'ems' : area;
}

/** JSON Schema of a zod schema, inlined: a schema with a registered id comes back as a $ref to $defs. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown> & { $ref?: string; $defs?: Record<string, Record<string, unknown>> };
  delete js.$schema;
  if (js.$ref && js.$defs) {
    const name = js.$ref.split('/').pop()!;
    const { [name]: inner, ...rest } = js.$defs;
    if (inner) return Object.keys(rest).length ? { ...inner, $defs: rest } : inner;
  }
  return js;
}

export function buildAsyncApi(catalogue: EventCatalogue = events.EventSchemas): Record<string, unknown> {
  const envelope = jsonSchema(events.CloudEvent);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const type of Object.keys(catalogue).sort()) {
    const name = messageName(type);
    const payload = jsonSchema(catalogue[type]!);
    const envelopeProps = (envelope.properties ?? {}) as Record<string, unknown>;
    messages[name] = {
      name,
      title: type,
      summary: (catalogue[type]!.meta()?.description) ?? type,
      contentType: 'application/cloudevents+json',
      payload: {
        ...envelope,
        properties: { ...envelopeProps, type: { const: type }, data: payload },
      },
    };
    channels[name] = { address: type, messages: { [name]: { $ref: `#/components/messages/${name}` } } };
    operations[`${publisherOf(type)}.send.${name}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${name}` },
      summary: `${publisherOf(type)} publishes ${type}`,
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
    };
    for (const [subscriber, sub] of Object.entries(CORE_SUBSCRIBERS)) {
      if (!sub.types.includes(type)) continue;
      operations[`${subscriber}.receive.${name}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${name}` },
        summary: `${sub.service} (${subscriber}) reacts to ${type}`,
        messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'EMS events',
      version: '1.0.0',
      description:
        'Events of the Exit Management System. Every message is a CloudEvents 1.0 JSON envelope (structured mode) with ' +
        'the extension attributes `correlationid` (the case) and `traceparent` (W3C trace context); `subject` is the resignation id. ' +
        'Type names are versioned; a new shape is a new type name.',
    },
    defaultContentType: 'application/cloudevents+json',
    channels,
    operations,
    components: { messages },
  };
}
