import { createKysely, systemClock, type CallAuth, type CaseLookup, type Clock, type HttpTransport, type Logger, type Pool, type Poller, type ServiceModule } from '@ems/platform';
import type { DemoOrg } from '@ems/demo-org';
import type { EventBus, EventedService, Subscription } from '@ems/eventbus';
import { sql } from 'kysely';
import { registerCancelInterviewRoute } from './cancel-interview/cancel-interview.http.ts';
import { cancelInterviewWhenResignationClosed } from './cancel-interview/cancel-interview-when-resignation-closed.ts';
import { HR_SCHEMA, type HrDB } from './db/hr.db.ts';
import { migrations } from './db/migrations.ts';
import { createInviteDelivery } from './deliver-invites/deliver-invites.ts';
import { createInviteRelay } from './deliver-invites/invite-relay.ts';
import { registerDirectoryRoutes } from './directory/directory.http.ts';
import { updateDirectoryWhenPersonChanged } from './directory/update-directory-when-person-changed.ts';
import { DEFAULT_FOLLOW_UP_POLICY, type FollowUpPolicy } from './domain/follow-ups.ts';
import type { FollowUpDeps } from './follow-up-exit-process/follow-up-exit-process.ts';
import { registerFollowUpRoute } from './follow-up-exit-process/follow-up.http.ts';
import { createFollowUpPoller } from './follow-up-exit-process/follow-up.poller.ts';
import { followUpWhenResignationSubmittedOrDecided } from './follow-up-exit-process/follow-up-when-resignation-submitted-or-decided.ts';
import type { HrContext } from './hr.context.ts';
import { registerMarkInterviewHeldRoute } from './mark-interview-held/mark-interview-held.http.ts';
import { createNotificationClient } from './notification/notification.client.ts';
import { registerReadInterviewsRoutes } from './read-interviews/read-interviews.http.ts';
import { registerRescheduleInterviewRoute } from './reschedule-interview/reschedule-interview.http.ts';
import { registerScheduleInterviewRoute } from './schedule-interview/schedule-interview.http.ts';
import { scheduleInterviewWhenResignationSubmitted } from './schedule-interview/schedule-interview-when-resignation-submitted.ts';
import { seedHr } from './seed/seed.ts';

export { HR_SCHEMA };

export interface HrFollowUpOptions {
  /** Deadlines of the exit process (default DEFAULT_FOLLOW_UP_POLICY). */
  policy?: FollowUpPolicy;
  /** How often the timer looks for due follow-ups (default 1000 ms); also the first retry delay. */
  intervalMs?: number;
  /** Link to the case in the follow-up emails. */
  caseUrl?: (resignationId: string) => string;
}

export interface HrServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
  /** Base URL of the Notification service, e.g. http://127.0.0.1:3000 (emails go to POST {url}/api/emails). */
  notificationUrl: string;
  /** HR's own credentials for its calls (to Notification, to EMS): a service token per call. */
  auth?: CallAuth | undefined;
  /** Whether a case exists and whose it is (EMS, asked over HTTP): an interview is booked only for a real case. */
  cases: CaseLookup;
  /** How often the invite relay looks for undelivered invites; also the first retry delay. Default 1000 ms. */
  relayIntervalMs?: number;
  /**
   * The event bus. When given, HR publishes its outcome events (exit-interview-scheduled, -held,
   * -cancelled) in the transaction of each change, in both modes; without it HR publishes nothing.
   */
  bus?: EventBus;
  /**
   * Choreography (needs `bus`): HR books the interview when a resignation is submitted, cancels it when
   * the resignation is retained or withdrawn, and owns the follow-up timer (reminders, escalations).
   */
  reactToEvents?: boolean;
  /**
   * The follow-ups: the policy and the emails' link in both modes (the orchestrator's command POST /api/hr/follow-ups
   * runs the same use case as the timer); the timer itself runs only with `reactToEvents`.
   */
  followUps?: HrFollowUpOptions;
  /**
   * This process is the only HR (no replicas): invites and follow-ups still leased when it starts were being
   * delivered by its predecessor, killed — delivered at once rather than when their lease ends (≈ 1 min).
   */
  resumeHeld?: boolean;
  /** How HR's calls reach Notification (default over the network; platform's injectTransport when this process serves it). */
  transport?: HttpTransport;
}

export type HrService = ServiceModule<DemoOrg> &
  EventedService & {
    /** HR's follow-up timer (choreography only): tests wait on its drained() instead of sleeping. */
    followUpTimer: Poller | undefined;
    /** The invite relay (both modes): tests wait on its drained() instead of sleeping. */
    inviteRelay: Poller;
  };

/** The HR service: the people directory and exit interviews, with calendar invites sent via Notification. */
export function createHrService(deps: HrServiceDeps): HrService {
  if (deps.reactToEvents && !deps.bus) throw new Error('createHrService: reactToEvents needs a bus');
  const policy = deps.followUps?.policy ?? DEFAULT_FOLLOW_UP_POLICY;
  for (const [name, ms] of Object.entries(policy)) {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`createHrService: followUps.policy.${name} must be a duration in ms ≥ 0, got ${String(ms)}`);
  }
  const db = createKysely<HrDB>(deps.pool, HR_SCHEMA);
  const log = deps.log;
  const relayIntervalMs = deps.relayIntervalMs ?? 1_000;
  const client = createNotificationClient({ notificationUrl: deps.notificationUrl, auth: deps.auth, transport: deps.transport });
  const invites = createInviteDelivery({ db, log, client, retryBaseMs: relayIntervalMs });
  const relay = createInviteRelay(invites, { log, intervalMs: relayIntervalMs });
  const base: HrContext = { db, log, clock: deps.clock ?? systemClock, invites, bus: deps.bus };

  let ctx = base;
  const subscriptions: Subscription[] = [];
  const workers: Poller[] = [relay];
  const followUpIntervalMs = deps.followUps?.intervalMs ?? 1_000;
  const followUps: FollowUpDeps = { policy, client, retryBaseMs: followUpIntervalMs, caseUrl: deps.followUps?.caseUrl };
  let followUpTimer: Poller | undefined;
  if (deps.reactToEvents && deps.bus) {
    // HR owns the follow-up timers: every change of an interview moves its case's timer.
    const evented = { ...base, bus: deps.bus, followUpPolicy: policy };
    ctx = evented;
    subscriptions.push(scheduleInterviewWhenResignationSubmitted(evented), cancelInterviewWhenResignationClosed(evented), followUpWhenResignationSubmittedOrDecided(evented));
    followUpTimer = createFollowUpPoller(evented, followUps, followUpIntervalMs);
    workers.push(followUpTimer);
  }

  // The directory's changes reach HR's copy in both modes (not a reaction of the exit process).
  if (deps.bus) subscriptions.push(updateDirectoryWhenPersonChanged(base));

  return {
    name: 'hr',
    schema: HR_SCHEMA,
    migrations,
    routes: async (app) => {
      registerDirectoryRoutes(app, ctx);
      registerScheduleInterviewRoute(app, ctx, deps.cases);
      registerReadInterviewsRoutes(app, ctx);
      registerRescheduleInterviewRoute(app, ctx);
      registerCancelInterviewRoute(app, ctx);
      registerMarkInterviewHeldRoute(app, ctx);
      registerFollowUpRoute(app, ctx, followUps);
    },
    readiness: {
      hr: async () => {
        await sql`SELECT 1`.execute(db);
      },
    },
    start: async () => {
      if (deps.resumeHeld) {
        const invitesLeased = await db.updateTable('outbox').set({ next_attempt_at: sql<Date>`now()` }).where('status', '=', 'pending').where('next_attempt_at', '>', sql<Date>`now()`).executeTakeFirst();
        const followUpsLeased = await db.updateTable('exit_cases').set({ claimed_until: null }).where('claimed_until', '>', sql<Date>`now()`).executeTakeFirst();
        const n = Number(invitesLeased.numUpdatedRows) + Number(followUpsLeased.numUpdatedRows);
        if (n) log.warn({ invites: Number(invitesLeased.numUpdatedRows), followUps: Number(followUpsLeased.numUpdatedRows) }, 'invites and follow-ups left in flight by a stopped process, resumed now');
      }
      for (const w of workers) w.start();
    },
    stop: async () => {
      await Promise.all([invites.stop(), ...workers.map((w) => w.stop())]);
    },
    seed: (org) => seedHr(db, org),
    subscriptions,
    followUpTimer,
    inviteRelay: relay,
  };
}
