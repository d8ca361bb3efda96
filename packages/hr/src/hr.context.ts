import type { Clock, Logger } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { HrDb } from './db/hr.db.ts';
import type { InviteDelivery } from './deliver-invites/deliver-invites.ts';

/** What every HR use case is given: built once by createHrService, never a module-level singleton. */
export interface HrContext {
  db: HrDb;
  log: Logger;
  clock: Clock;
  invites: InviteDelivery;
  /** Where HR publishes its outcome events (in the transaction of the change); absent → HR publishes nothing. */
  bus?: EventBus | undefined;
}
