import type { DemoOrg } from '@ems/demo-org';
import type { Logger, Pool, ServiceModule } from '@ems/platform';
import { createHrService } from '@ems/hr';
import { createAccessService } from '@ems/access';
import { createNotificationService } from '@ems/notification';
import { migrations } from './db/migrations.ts';
import { createEmsDb, EMS_SCHEMA } from './ems.service.ts';
import { createDirectory } from './directory/directory.ts';

/** The service modules as far as migrating and seeding needs them (nothing is started). */
export function buildServiceModulesForSeeding(pool: Pool, log: Logger): ServiceModule<DemoOrg>[] {
  const unused = 'http://127.0.0.1:9';
  return [
    createNotificationService({ pool, log, smtpUrl: 'smtp://127.0.0.1:9' }),
    createHrService({ pool, log, notificationUrl: unused }),
    createAccessService({ pool, log }),
    { name: 'ems', schema: EMS_SCHEMA, migrations, routes: async () => undefined, seed: (org) => createDirectory(createEmsDb(pool)).seed(org) },
  ];
}
