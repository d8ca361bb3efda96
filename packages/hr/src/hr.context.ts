import type { Clock, Logger } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { HrDb } from './db/hr.db.ts';
import type { InviteDelivery } from './deliver-invites/deliver-invites.ts';
import type { FollowUpPolicy } from './domain/follow-ups.ts';

/** What every HR use case is given: built once by createHrService, never a module-level singleton. */
export interface HrContext {
  db: HrDb;
  log: Logger;
  clock: Clock;
  invites: InviteDelivery;
  /** Where HR publishes its outcome events (in the transaction of the change); absent → HR publishes nothing. */
  bus?: EventBus | undefined;
  /** Set when HR owns the follow-up timers (choreography): every change of an interview then moves its case's timer. */
  followUpPolicy?: FollowUpPolicy | undefined;
}
