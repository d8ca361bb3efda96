import { createKysely, systemClock, type Clock, type Logger, type Pool, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus, EventedService, Subscription } from '@ems/eventbus';
import { sql } from 'kysely';
import { registerCancelInterviewRoute } from './cancel-interview/cancel-interview.http.ts';
import { HR_SCHEMA, type HrDB } from './db/hr.db.ts';
import { migrations } from './db/migrations.ts';
import { createInviteDelivery } from './deliver-invites/deliver-invites.ts';
import { createInviteRelay } from './deliver-invites/invite-relay.ts';
import { registerDirectoryRoutes } from './directory/directory.http.ts';
import type { HrContext } from './hr.context.ts';
import { registerReadInterviewsRoutes } from './read-interviews/read-interviews.http.ts';
import { registerRescheduleInterviewRoute } from './reschedule-interview/reschedule-interview.http.ts';
import { registerScheduleInterviewRoute } from './schedule-interview/schedule-interview.http.ts';
import { scheduleInterviewWhenResignationSubmitted } from './schedule-interview/schedule-interview-when-resignation-submitted.ts';
import { seedHr } from './seed/seed.ts';

export { HR_SCHEMA };

export interface HrServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
  /** Base URL of the Notification service, e.g. http://127.0.0.1:3000 (invites go to POST {url}/api/emails). */
  notificationUrl: string;
  /** How often the invite relay looks for undelivered invites; also the first retry delay. Default 1000 ms. */
  relayIntervalMs?: number;
  /**
   * The event bus. When given, HR publishes its outcome events (exit-interview-scheduled) in the
   * transaction of each new booking, in both modes; without it HR publishes nothing.
   */
  bus?: EventBus;
  /** Choreography: also book the interview when a resignation-submitted event arrives (needs `bus`). */
  reactToEvents?: boolean;
}

/** The HR service: the people directory and exit interviews, with calendar invites sent via Notification. */
export function createHrService(deps: HrServiceDeps): ServiceModule<DemoOrg> & EventedService {
  if (deps.reactToEvents && !deps.bus) throw new Error('createHrService: reactToEvents needs a bus');
  const db = createKysely<HrDB>(deps.pool, HR_SCHEMA);
  const log = deps.log;
  const relayIntervalMs = deps.relayIntervalMs ?? 1_000;
  const invites = createInviteDelivery({ db, log, notificationUrl: deps.notificationUrl, retryBaseMs: relayIntervalMs });
  const relay = createInviteRelay(invites, { log, intervalMs: relayIntervalMs });
  const ctx: HrContext = { db, log, clock: deps.clock ?? systemClock, invites, bus: deps.bus };
  const subscriptions: Subscription[] = deps.reactToEvents && deps.bus ? [scheduleInterviewWhenResignationSubmitted({ ...ctx, bus: deps.bus })] : [];
  return {
    name: 'hr',
    schema: HR_SCHEMA,
    migrations,
    routes: async (app) => {
      registerDirectoryRoutes(app, ctx);
      registerScheduleInterviewRoute(app, ctx);
      registerReadInterviewsRoutes(app, ctx);
      registerRescheduleInterviewRoute(app, ctx);
      registerCancelInterviewRoute(app, ctx);
    },
    readiness: {
      hr: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    start: async () => relay.start(),
    stop: () => relay.stop(),
    seed: (org) => seedHr(db, org),
    subscriptions,
  };
}
