import { sql } from 'kysely';
import { createKysely, systemClock, type BackoffPolicy, type Clock, type Logger, type Pool, type Poller, type ServiceModule } from '@ems/platform';
import type { RecipientRules } from './send-email/derive-recipient.ts';
import type { EventBus, EventedService } from '@ems/eventbus';
import { migrations } from './db/migrations.ts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from './db/notification.db.ts';
import { SMTP_MAX_CONNECTIONS } from './smtp/mailer.ts';
import { createSmtpMailerOffThread } from './smtp/mailer-thread.ts';
import { createEmailStore } from './send-email/store-together.ts';
import { createSentRecorder } from './deliver-email/record-sent-together.ts';
import { createClaimer } from './deliver-email/claim-together.ts';
import { createSendSlots } from './deliver-email/send-slots.ts';
import { createDeliveries } from './deliver-email/deliveries.ts';
import { createDispatcher } from './deliver-email/deliver-queued-emails.dispatcher.ts';
import { sendEmailRoute } from './send-email/send-email.http.ts';
import { sendEmailsRoute } from './send-email/send-emails.http.ts';
import { notifyManagerWhenResignationSubmitted } from './notify-manager/notify-manager-when-resignation-submitted.ts';
import { announceDecisionWhenDecided } from './announce-decision/announce-decision-when-decided.ts';
import { announceDecisionRoute } from './announce-decision/announce-decision.http.ts';
import { notifyManagerRoute } from './notify-manager/notify-manager.http.ts';
import { listEmailsRoute } from './list-emails/list-emails.http.ts';
import { getEmailRoute } from './get-email/get-email.http.ts';
import type { NotificationContext } from './notification.context.ts';
import { mailboxRoutes } from './mailbox/mailbox.http.ts';
import type { MailboxDeps } from './mailbox/read-mailbox.ts';
import { tellAccessAdminsWhenDriftDetected, type AccessAdminDirectory } from './tell-access-admins/tell-access-admins-when-drift-detected.ts';
import { tellExitRoute } from './tell-exit/tell-exit.http.ts';
import { tellExitWhenAccessSuspended } from './tell-exit/tell-exit-when-access-suspended.ts';

export { NOTIFICATION_SCHEMA };

/** Email retries: 30 s after the first failure, doubling, at most 1 h apart; ±20 % so emails queued in one outage do not retry in lock-step. */
const defaultBackoff: Required<BackoffPolicy> = { baseMs: 30_000, maxMs: 60 * 60_000, jitter: 0.2 };

export interface NotificationServiceDeps {
  pool: Pool;
  log: Logger;
  clock?: Clock;
  /** SMTP server to deliver through, e.g. smtp://127.0.0.1:2525 (see startCaptureSmtpServer for a local one). */
  smtpUrl: string;
  /** From header; default 'EMS <ems@acme.example>'. */
  from?: string;
  /** Attempts before an email is `failed`; default 8. */
  maxAttempts?: number;
  /** Backoff after the first failed attempt, doubling per attempt (±20 % jitter, capped at 1 h); default 30 s. */
  retryBaseMs?: number;
  /** How often the dispatcher looks for due retries; default 1 s. */
  dispatchIntervalMs?: number;
  /** SMTP connections kept open to the server, and so messages in flight at once; default SMTP_MAX_CONNECTIONS. */
  smtpMaxConnections?: number;
  /** How long POST /api/emails (and the event handler) waits for its immediate delivery attempt; default 3 s. */
  fastPathTimeoutMs?: number;
  /**
   * The event bus. When present, a manager notice (template resignation-manager-notice) publishes managerNotified
   * when it is sent and managerNotificationFailed when it is given up, in the transaction that records
   * its status — whoever asked for it (both modes). Likewise the decision notices of one announcement
   * (template resignation-decision-notice, its decision and revision in its data) publish decisionAnnounced once
   * all of them are sent, or decisionAnnouncementFailed if one was given up. Without it nothing is published.
   */
  bus?: EventBus;
  /**
   * Choreography: subscribe to `resignationSubmitted` (notify the manager) and to `resignationRetained`,
   * `resignationWithdrawn`, `exitConfirmed` (announce the decision to manager and employee). Needs `bus`.
   */
  reactToEvents?: boolean;
  /** Link to the case in the emails sent in reaction to events (manager notice, decision notices); no link without it. */
  caseUrl?: (resignationId: string) => string;
  /**
   * What POST /api/emails checks before it sends: the case exists (asked of EMS), the recipient is the one the
   * purpose names in the directory, the link is the case's page.
   */
  recipients: Omit<RecipientRules, 'caseUrl'>;
  /**
   * This process is the only Notification (no replicas): an email still leased when it starts was being
   * sent by its predecessor, killed — tried again at once rather than when the lease ends (≈ 1 min).
   */
  resumeHeld?: boolean;
  /**
   * The mailbox (GET /api/mailbox): the capture server's Maildir in the embedded default, and how to find a
   * person's address. Without a Maildir (mail goes to a relay) the mailbox operations answer 404.
   */
  mailbox?: MailboxDeps;
  /**
   * Drift alerts, in both modes (drift is no step of the exit process): with a bus, every access_admin of
   * this directory is emailed once per `accessDriftDetected`, linking to `accessUrl` (the IT page).
   */
  accessAdmins?: { directory: AccessAdminDirectory; accessUrl?: string | undefined };
}

export type NotificationService = ServiceModule &
  EventedService & {
    /** The dispatcher of queued emails (retries): tests wait on its drained() instead of sleeping. */
    dispatcher: Poller;
  };

/**
 * The Notification service: renders named templates and delivers each email once per
 * (resignation, purpose, recipient) over SMTP, retrying with backoff until it is sent or given up.
 */
export function createNotificationService(deps: NotificationServiceDeps): NotificationService {
  if (deps.reactToEvents && !deps.bus) throw new Error('notification: reactToEvents needs a bus');
  const maxAttempts = deps.maxAttempts ?? 8;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error('notification: maxAttempts must be a positive integer');
  const retryBaseMs = deps.retryBaseMs ?? defaultBackoff.baseMs;
  if (!(retryBaseMs >= 0)) throw new Error('notification: retryBaseMs must not be negative');

  const smtpMaxConnections = deps.smtpMaxConnections ?? SMTP_MAX_CONNECTIONS;
  if (!Number.isInteger(smtpMaxConnections) || smtpMaxConnections < 1) throw new Error('notification: smtpMaxConnections must be a positive integer');
  const connectionTimeoutMs = 5_000;
  const socketTimeoutMs = 15_000;
  const db = createKysely<NotificationDB>(deps.pool, NOTIFICATION_SCHEMA);
  const clock = deps.clock ?? systemClock;
  // Comfortably longer than one attempt can take (connect + greeting + a stalled socket), so a live
  // sender never loses its claim; a dead one's email is picked up again after this.
  const leaseMs = 2 * (2 * connectionTimeoutMs + socketTimeoutMs) + 10_000;
  const ctx: NotificationContext = {
    db,
    pool: deps.pool,
    log: deps.log,
    clock,
    mailer: createSmtpMailerOffThread({ url: deps.smtpUrl, connectionTimeoutMs, socketTimeoutMs, maxConnections: smtpMaxConnections }),
    from: deps.from ?? 'EMS <ems@acme.example>',
    maxAttempts,
    backoff: { ...defaultBackoff, baseMs: retryBaseMs, maxMs: Math.max(defaultBackoff.maxMs, retryBaseMs) },
    leaseMs,
    fastPathTimeoutMs: deps.fastPathTimeoutMs ?? 3_000,
    deliveries: createDeliveries(),
    sendSlots: createSendSlots(smtpMaxConnections),
    claimById: createClaimer({ db, clock, leaseMs }),
    storeEmails: createEmailStore(db),
    recordSent: createSentRecorder({ db, clock, bus: deps.bus }),
    bus: deps.bus,
  };
  const dispatcher = createDispatcher(ctx, { intervalMs: deps.dispatchIntervalMs ?? 1_000 });
  const bus = deps.bus;
  const subscriptions = bus
    ? [
        ...(deps.reactToEvents
          ? [
              notifyManagerWhenResignationSubmitted({ ...ctx, bus }, deps.caseUrl),
              announceDecisionWhenDecided({ ...ctx, bus }, deps.caseUrl),
              tellExitWhenAccessSuspended({ ...ctx, bus }, deps.caseUrl),
            ]
          : []),
        // Both modes.
        ...(deps.accessAdmins ? [tellAccessAdminsWhenDriftDetected({ ...ctx, bus }, deps.accessAdmins.directory, deps.accessAdmins.accessUrl)] : []),
      ]
    : [];

  return {
    name: 'notification',
    dispatcher,
    schema: NOTIFICATION_SCHEMA,
    migrations,
    routes: async (app) => {
      // The only link an email may carry is the case's own page (none without a public URL to build it from).
      await sendEmailRoute(ctx, { ...deps.recipients, caseUrl: deps.caseUrl })(app);
      await sendEmailsRoute(ctx, { ...deps.recipients, caseUrl: deps.caseUrl })(app);
      // The orchestrator's commands: the same use cases as the choreography handlers.
      await notifyManagerRoute(ctx, deps.recipients.cases, deps.caseUrl)(app);
      await announceDecisionRoute(ctx, deps.recipients.cases, deps.caseUrl)(app);
      await listEmailsRoute(ctx)(app);
      await getEmailRoute(ctx)(app);
      await mailboxRoutes(deps.mailbox ?? { maildir: undefined, emailOf: async () => undefined })(app);
      // Involuntary exits: the orchestrator's command, the same use case as tell-exit-when-access-suspended.
      await tellExitRoute(ctx, deps.caseUrl)(app);
    },
    readiness: {
      notification: async () => {
        await sql`select 1`.execute(ctx.db);
      },
    },
    // A mail outage does not stop intake: mail is queued and retried. It shows here, not as not-ready.
    health: {
      'notification.smtp': () => ctx.mailer.verify(),
    },
    async start() {
      if (deps.resumeHeld) {
        const released = await ctx.db
          .updateTable('emails')
          .set({ claim_token: null, claimed_until: null })
          .where('status', '=', 'queued')
          .where('claimed_until', 'is not', null)
          .executeTakeFirst();
        if (released.numUpdatedRows) ctx.log.warn({ emails: Number(released.numUpdatedRows) }, 'emails left in flight by a stopped process, sent again now');
      }
      dispatcher.start();
    },
    async stop() {
      await dispatcher.stop();
      await ctx.deliveries.drain();
      // Nothing is being sent any more: close the pooled SMTP connections (a restart opens new ones).
      ctx.mailer.close();
    },
    ...(subscriptions.length > 0 ? { subscriptions } : {}),
  };
}
