import type { Kysely } from 'kysely';
import { EventTypes, PersonChanged } from '@ems/contracts/events';
import type { Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { updateRoster } from './update-roster.ts';

export const UPDATE_ROSTER_SUBSCRIBER = 'ems.update-roster-when-person-changed';

/** The directory changed a person → EMS's roster (and the person's open case) follows. Both modes. */
export function updateRosterWhenPersonChanged(deps: { db: Kysely<EmsDb> }): Subscription {
  return {
    name: UPDATE_ROSTER_SUBSCRIBER,
    types: [EventTypes.personChanged],
    async handle(event) {
      await updateRoster(deps.db, PersonChanged.parse(event.data));
    },
  };
}
