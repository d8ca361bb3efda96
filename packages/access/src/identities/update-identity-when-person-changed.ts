import { PersonChanged, EventTypes } from '@ems/contracts/events';
import type { Logger } from '@ems/platform';
import type { Subscription } from '@ems/eventbus';
import type { AccessDb } from '../db/access.db.ts';

export const UPDATE_IDENTITY_SUBSCRIBER = 'access.update-identity-when-person-changed';

/**
 * The directory changed a person → Access's identity of them follows (both modes: Access holds this
 * part of the directory whoever coordinates the case).
 *
 * A snapshot is applied only over an older one (directory_version), so a redelivered or late event
 * changes nothing. A new active person gets an identity (they may be granted access from now on);
 * a new inactive one does not. Email is what connectors name the account by (AccountRef.email).
 * Status, holds and grants are not touched: those follow from cases, not from directory edits.
 */
export function updateIdentityWhenPersonChanged(deps: { db: AccessDb; log: Logger }): Subscription {
  const { db, log } = deps;
  return {
    name: UPDATE_IDENTITY_SUBSCRIBER,
    types: [EventTypes.personChanged],
    async handle(event) {
      const data = PersonChanged.parse(event.data);
      const outcome = await applyPersonSnapshot(db, data.person, data.version);
      log.debug({ eventId: event.id, employeeId: data.person.id, version: data.version, outcome }, 'directory person applied to access identity');
    },
  };
}

/** Applies one directory snapshot to the identity: 'created', 'updated', or 'stale' (an older or equal version, or a new inactive person). */
export async function applyPersonSnapshot(db: AccessDb, person: { id: string; email: string; active: boolean }, version: number): Promise<'created' | 'updated' | 'stale'> {
  const updated = await db
    .updateTable('identities')
    .set({ email: person.email, directory_version: version })
    .where('employee_id', '=', person.id)
    .where('directory_version', '<', version)
    .returning('employee_id')
    .executeTakeFirst();
  if (updated) return 'updated';
  if (!person.active) return 'stale';
  const created = await db
    .insertInto('identities')
    .values({ employee_id: person.id, email: person.email, directory_version: version })
    .onConflict((oc) => oc.column('employee_id').doNothing())
    .returning('employee_id')
    .executeTakeFirst();
  return created ? 'created' : 'stale';
}
