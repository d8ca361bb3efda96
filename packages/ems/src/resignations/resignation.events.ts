/** The events EMS itself publishes about a case: its submission and each decision (written with the case, in one transaction). */
import type { Selectable } from 'kysely';
import type { Actor } from '@ems/platform';
import { EventSources, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import type { ResignationRow } from '../db/types.ts';
import type { DecisionKind } from '../domain/resignation.ts';
import type { CaseDraft } from './case.types.ts';
import { draftFromRow } from './case.view.ts';

/** The events EMS publishes (a case opened, a decision): never tracked back onto the timeline, which has them already. */
export const EMS_OWN_EVENTS: ReadonlySet<string> = new Set<string>([
  EventTypes.resignationSubmitted,
  EventTypes.resignationRetained,
  EventTypes.resignationWithdrawn,
  EventTypes.exitConfirmed,
]);

export function submittedEvent(draft: CaseDraft): CloudEvent {
  return createEvent({
    // The case id: one submission event per case, whoever retries the write.
    id: draft.id,
    type: EventTypes.resignationSubmitted,
    source: EventSources.ems,
    subject: draft.id,
    correlationId: draft.correlationId,
    traceparent: draft.traceparent ?? undefined,
    time: new Date(draft.submittedAt),
    data: {
      resignationId: draft.id,
      employee: draft.employee,
      manager: draft.manager,
      hrPartnerId: draft.hrPartnerId,
      lastWorkingDay: draft.lastWorkingDay,
      reason: draft.reason,
      submittedAt: draft.submittedAt,
    },
  });
}

export function decisionEvent(
  row: Selectable<ResignationRow>,
  d: { kind: DecisionKind; at: Date; note: string | null; lastWorkingDay: string | null; revokeAt: Date | null; revision: number; actor: Actor | null },
): CloudEvent {
  const { employee, manager, hrPartnerId } = draftFromRow(row);
  const base = {
    resignationId: row.id,
    employee,
    manager,
    hrPartnerId,
    decidedAt: d.at.toISOString(),
    note: d.note,
    decidedBy: d.actor,
  };
  const type = d.kind === 'retained' ? EventTypes.resignationRetained : d.kind === 'withdrawn' ? EventTypes.resignationWithdrawn : EventTypes.exitConfirmed;
  return createEvent({
    // One event per decision and revision, whoever retries the write.
    id: `${row.id}.${d.kind}.${d.revision}`,
    type,
    source: EventSources.ems,
    subject: row.id,
    correlationId: row.correlation_id,
    traceparent: row.traceparent ?? undefined,
    time: d.at,
    data: d.kind === 'exit_confirmed' ? { ...base, lastWorkingDay: d.lastWorkingDay, revokeAt: d.revokeAt!.toISOString(), revision: d.revision } : base,
  });
}
