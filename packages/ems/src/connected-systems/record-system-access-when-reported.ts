import type { Kysely } from 'kysely';
import type { Clock } from '@ems/platform';
import type { Subscription } from '@ems/eventbus';
import type { EmsDb } from '../db/types.ts';
import { CONNECTED_SYSTEM_EVENT_TYPES, RECORD_SYSTEM_ACCESS_SUBSCRIBER, recordSystemAccess } from './record-system-access.ts';

/**
 * Access's connected systems changed (or failed to, or drifted) → the case shows it. Subscribed in both
 * modes: Access publishes these whoever coordinates the case, and the orchestrator never asks for them.
 */
export function recordSystemAccessWhenReported(deps: { db: Kysely<EmsDb>; clock: Clock }): Subscription {
  return {
    name: RECORD_SYSTEM_ACCESS_SUBSCRIBER,
    types: CONNECTED_SYSTEM_EVENT_TYPES,
    async handle(event) {
      await recordSystemAccess(deps.db, deps.clock, event);
    },
  };
}
