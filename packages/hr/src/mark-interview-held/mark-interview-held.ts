import { notFound } from '@ems/platform';
import { EventSources, EventTypes, type CloudEvent, type EventData } from '@ems/contracts/events';
import type { hr } from '@ems/contracts';
import type { HrContext } from '../hr.context.ts';
import { createEvent, type TraceContext } from '@ems/eventbus';
import { httpCause, type EventCause } from '../interviews/event-cause.ts';
import { illegalTransition, notesRecorded, notStarted } from '../interviews/problems.ts';
import { toInterview, type InterviewRow } from '../interviews/interview.view.ts';
import { refreshFollowUpTimer } from '../follow-up-exit-process/follow-up-timer.ts';

/**
 * The HR partner marks the exit interview as held, with their notes.
 *
 *   ┌ one transaction ──────────────────────────────────────────────────────────────┐
 *   │ lock the interview                                              (404 unknown) │
 *   │ cancelled ──▶ 409                                                             │
 *   │ held already ──▶ as it is; notes written up later only if it has none, never  │
 *   │                  rewritten (409) — nothing published                          │
 *   │ scheduled, not started yet ──▶ 409                                            │
 *   │ scheduled ──▶ held now, with the notes → exit-interview-held (when a bus is   │
 *   │               configured) → the case's follow-up timer moves on               │
 *   └───────────────────────────────────────────────────────────────────────────────┘
 *
 * The notes stay in HR: the event only says whether there are any.
 */
export async function markInterviewHeld(ctx: HrContext, id: string, request: hr.MarkInterviewHeldRequest, trace: TraceContext = {}): Promise<hr.Interview> {
  const row = await ctx.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('interviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw notFound(`No interview ${id}`);
    if (current.status === 'cancelled') throw illegalTransition(id, current.status, 'held');
    const now = ctx.clock.now();

    if (current.status === 'held') {
      if (request.notes === undefined || request.notes === current.notes) return current;
      if (current.notes) throw notesRecorded(id);
      return trx.updateTable('interviews').set({ notes: request.notes, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    }
    if (now < current.starts_at) throw notStarted(id, current.starts_at);

    const held = await trx
      .updateTable('interviews')
      .set({ status: 'held', held_at: now, notes: request.notes ?? null, updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (ctx.bus) await ctx.bus.publish(trx, [exitInterviewHeld(held, httpCause(held.resignation_id, trace))]);
    await refreshFollowUpTimer(ctx, trx, held.resignation_id);
    return held;
  });
  return toInterview(row);
}

export function exitInterviewHeld(row: InterviewRow, cause: EventCause): CloudEvent<EventData<typeof EventTypes.exitInterviewHeld>> {
  if (!row.held_at) throw new Error(`interview ${row.id} is not held`);
  return createEvent({
    type: EventTypes.exitInterviewHeld,
    source: EventSources.hr,
    subject: row.resignation_id,
    correlationId: cause.correlationId,
    traceparent: cause.traceparent,
    time: row.held_at,
    data: { resignationId: row.resignation_id, interviewId: row.id, heldAt: row.held_at.toISOString(), hasNotes: row.notes !== null && row.notes !== '' },
  });
}
