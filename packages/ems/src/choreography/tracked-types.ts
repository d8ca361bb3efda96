import { EventTypes } from '@ems/contracts/events';
import type { EventCatalogue } from '@ems/eventbus';
import { CONNECTED_SYSTEM_EVENT_TYPES } from '../connected-systems/record-system-access.ts';
import { EMS_OWN_EVENTS } from '../resignations/resignation.events.ts';

/** Events EMS follows with subscribers of their own, in both modes: never the tracker's (a directory change is about no case). */
const FOLLOWED_APART = new Set<string>([...CONNECTED_SYSTEM_EVENT_TYPES, EventTypes.personChanged]);

/**
 * The event types EMS's tracker records on cases: every event of the catalogue (an extension's too,
 * read when the tracker subscribes) but EMS's own — the submission and each decision are on the
 * timeline already, written with the event in one transaction (and by whom) — and those followed apart.
 */
export function trackedTypes(catalogue: EventCatalogue): string[] {
  return Object.keys(catalogue).filter((t) => !EMS_OWN_EVENTS.has(t) && !FOLLOWED_APART.has(t));
}
