import type { Clock, Logger } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { AssetsDb } from './db/assets.db.ts';

/** What the use cases of this extension need, built once by the factory. */
export interface AssetsContext {
  db: AssetsDb;
  clock: Clock;
  log: Logger;
  bus: EventBus;
  /** What every new task asks the leaver to hand back (EMS_ASSETS_ITEMS). */
  items: readonly string[];
}
