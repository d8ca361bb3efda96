import { randomUUID } from 'node:crypto';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type CloudEvent } from '@ems/eventbus';

type Retained = EventData<typeof EventTypes.resignationRetained>;
type ExitConfirmed = EventData<typeof EventTypes.exitConfirmed>;

export interface DecisionFacts {
  resignationId?: string;
  /** Default: a fresh mailbox per case. null: the employee has no manager. */
  manager?: Retained['manager'];
  employeeEmail?: string;
  note?: string | null;
}

/** The facts every decision event carries; fresh mailboxes per case so tests can count messages. */
function decided(facts: DecisionFacts): Retained {
  const resignationId = facts.resignationId ?? randomUUID();
  const tag = resignationId.slice(0, 8);
  return {
    resignationId,
    employee: { id: 'E1001', name: 'Alice Leaver', email: facts.employeeEmail ?? `alice.${tag}@acme.example`, timezone: 'Europe/Berlin' },
    manager: facts.manager === undefined ? { id: 'E1000', name: 'Dana Boss', email: `dana.${tag}@acme.example` } : facts.manager,
    hrPartnerId: 'HR1',
    decidedAt: '2026-03-10T09:00:00.000Z',
    note: facts.note === undefined ? 'Thank you for everything' : facts.note,
  };
}

/** The events EMS publishes when a resignation is decided (each a new event id and trace). */
export function retainedEvent(facts: DecisionFacts = {}): CloudEvent<Retained> {
  return envelope(EventTypes.resignationRetained, decided(facts));
}

export function withdrawnEvent(facts: DecisionFacts = {}): CloudEvent<Retained> {
  return envelope(EventTypes.resignationWithdrawn, decided(facts));
}

export function exitConfirmedEvent(
  facts: DecisionFacts & { revision?: number; lastWorkingDay?: string; revokeAt?: string } = {},
): CloudEvent<ExitConfirmed> {
  const lastWorkingDay = facts.lastWorkingDay ?? '2026-03-31';
  return envelope(EventTypes.exitConfirmed, {
    ...decided(facts),
    lastWorkingDay,
    // The midnight ending the day in Europe/Berlin (UTC+02:00 from the end of March).
    revokeAt: facts.revokeAt ?? '2026-03-31T22:00:00.000Z',
    revision: facts.revision ?? 1,
  });
}

function envelope<D extends { resignationId: string }>(type: string, data: D): CloudEvent<D> {
  return createEvent({ type, source: EventSources.ems, subject: data.resignationId, correlationId: `corr-${data.resignationId}`, data });
}
