import { z } from 'zod';
import { HttpProblem, ProblemSchema, type App } from '@ems/platform';
import { PageQuery, StorableLine } from '@ems/contracts';
import type { EventBus } from '@ems/eventbus';

const DeadLetter = z
  .object({
    id: z.string(),
    subscriber: z.string(),
    eventId: z.string().nullable(),
    eventType: z.string().nullable(),
    reason: z.string(),
    attempts: z.number().int(),
    deadAt: z.string(),
    replayedAt: z.string().nullable(),
    event: z.unknown(),
  })
  .meta({ id: 'DeadLetter' });
const DeadLetterList = z.object({ items: z.array(DeadLetter), nextOffset: z.number().int().nullable() }).meta({ id: 'DeadLetterList' });
const IdParams = z.object({ id: StorableLine.min(1).max(200) });

/** The dead-letter queue, whichever bus adapter runs: what failed for good, why, and a way to retry it. */
export function deadLetterRoutes(bus: EventBus) {
  return async (app: App): Promise<void> => {
    app.get(
      '/api/dead-letters',
      {
        schema: {
          operationId: 'listDeadLetters', tags: ['events'],
          summary: 'Events a subscriber gave up on (open ones; ?includeReplayed=true for all)',
          querystring: PageQuery.extend({ subscriber: StorableLine.max(200).optional(), includeReplayed: z.enum(['true', 'false']).optional() }),
          response: { 200: DeadLetterList, 400: ProblemSchema },
        },
      },
      async (req) => bus.deadLetters.list({ subscriber: req.query.subscriber, includeReplayed: req.query.includeReplayed === 'true', limit: req.query.limit, offset: req.query.offset }),
    );
    app.get(
      '/api/dead-letters/:id',
      { schema: { operationId: 'getDeadLetter', tags: ['events'], summary: 'One dead letter', params: IdParams, response: { 200: DeadLetter, 404: ProblemSchema } } },
      async (req) => {
        const found = await bus.deadLetters.get(req.params.id);
        if (!found) throw new HttpProblem(404, `No dead letter ${req.params.id}`);
        return found;
      },
    );
    app.post(
      '/api/dead-letters/:id/replay',
      {
        schema: {
          operationId: 'replayDeadLetter', tags: ['events'],
          summary: 'Deliver a dead-lettered event to its subscriber again (idempotent)',
          params: IdParams,
          response: { 200: DeadLetter, 404: ProblemSchema },
        },
      },
      async (req) => {
        const replayed = await bus.deadLetters.replay(req.params.id);
        if (!replayed) throw new HttpProblem(404, `No dead letter ${req.params.id}`);
        return replayed;
      },
    );
  };
}
