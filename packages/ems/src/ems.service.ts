import { createKysely, type Clock, type Pool, type ServiceModule } from '@ems/platform';
import { migrations } from './db/migrations.ts';
import type { EmsDb } from './db/types.ts';
import type { CaseStore } from './resignations/case-store.ts';
import { resignationRoutes } from './resignations/resignations.http.ts';
import type { CaseStarter } from './resignations/submit-resignation.ts';
import type { Participants } from './orchestration/participants.ts';

export const EMS_SCHEMA = 'ems';

export function createEmsDb(pool: Pool) {
  return createKysely<EmsDb>(pool, EMS_SCHEMA);
}

/** The EMS service: resignation intake and case tracking. How a case gets going is the starter's business. */
export function createEmsService(deps: {
  store: CaseStore;
  clock: Clock;
  noticeDays: number;
  directory: Pick<Participants, 'findEmployee'>;
  starter: CaseStarter;
}): ServiceModule {
  return {
    name: 'ems',
    schema: EMS_SCHEMA,
    migrations,
    routes: resignationRoutes(deps),
  };
}
