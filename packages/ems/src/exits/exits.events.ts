/** The event EMS publishes when a batch opens (choreography): involuntaryExitsStarted, one per chunk of ≤500 people. */
import { EventSources, EventTypes, EXIT_CHUNK_SIZE, type CloudEvent } from '@ems/contracts/events';
import { createEvent, nameUuid } from '@ems/eventbus';
import { chunksOf, exitPersonOf, type BatchDraft } from './exit-batch.store.ts';

/** Each chunk's event: its id follows from (batchId, chunk), so a rewritten batch publishes nothing new. */
export function exitsStartedEvents(b: BatchDraft): CloudEvent[] {
  const chunks = chunksOf(b.exits.length);
  return Array.from({ length: chunks }, (_, i) =>
    createEvent({
      id: nameUuid(`ems.exits-started:${b.id}:${i + 1}`),
      type: EventTypes.involuntaryExitsStarted,
      source: EventSources.ems,
      subject: b.id,
      correlationId: b.id,
      traceparent: b.traceparent ?? undefined,
      time: b.createdAt,
      data: {
        batchId: b.id,
        chunk: i + 1,
        chunks,
        revokeAt: b.revokeAt ? b.revokeAt.toISOString() : null,
        reason: b.reason,
        exits: b.exits.slice(i * EXIT_CHUNK_SIZE, (i + 1) * EXIT_CHUNK_SIZE).map(exitPersonOf),
      },
    }),
  );
}
