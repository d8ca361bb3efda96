import { AccessDriftDetected, EventTypes, type EventData } from '@ems/contracts/events';
import { notification as api } from '@ems/contracts';
import { PermanentError } from '@ems/platform';
import { firstDelivery, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { NOTIFICATION_SCHEMA, type EmailRow } from '../db/notification.db.ts';
import { prepareEmail } from '../domain/templates.ts';
import { claimOnInsert, type ClaimOnInsert } from '../deliver-email/deliver-email.ts';
import { deliverStored, storeEmail } from '../send-email/send-email.ts';

export const TELL_ACCESS_ADMINS_SUBSCRIBER = 'notification.tell-access-admins-when-drift-detected';

/** The email's purpose: one alert per drift and recipient (the drift id is the idempotency key). */
export const accessDriftPurpose = (driftId: string) => api.EmailPurposes.accessDrift(driftId);

interface Contact {
  id: string;
  name: string;
  email: string;
}

/** Whom to tell, from the identity directory (see @ems/identity createDirectoryReader). */
export interface AccessAdminDirectory {
  /** Active people holding the role. */
  peopleWithRole(role: 'access_admin'): Promise<Contact[]>;
  /** The person the drift is about, for their name. */
  relations(employeeId: string): Promise<{ employee: Contact } | undefined>;
}

/**
 * Both modes (drift is no step of the exit process): a reconciliation found a connected system
 * contradicting a hold or a revocation → email every access administrator.
 *
 *   one transaction: mark the event processed ─► store one alert per access administrator (queued),
 *                    purpose access-drift:<driftId>
 *   after commit:    try to deliver them now; the dispatcher retries the rest
 *
 * A redelivered event finds its id processed; the same drift published again under another id finds
 * its alerts stored (one per case, purpose and recipient): each administrator hears of a drift once.
 * A drift about no case is not emailed (every email belongs to a case); Access finds none today — it
 * reports drift only against a hold or a revocation — and lists every drift at GET /api/access/drifts.
 */
export function tellAccessAdminsWhenDriftDetected(
  ctx: NotificationContext & { bus: EventBus },
  directory: AccessAdminDirectory,
  accessUrl: string | undefined,
): Subscription {
  const { log } = ctx;
  return {
    name: TELL_ACCESS_ADMINS_SUBSCRIBER,
    types: [EventTypes.accessDriftDetected],
    async handle(event) {
      const drift = AccessDriftDetected.parse(event.data);
      const resignationId = drift.resignationId;
      if (resignationId === null) {
        log.warn({ eventId: event.id, driftId: drift.driftId }, 'drift about no case: not emailed (listed at GET /api/access/drifts)');
        return;
      }
      const admins = await directory.peopleWithRole('access_admin');
      if (admins.length === 0) {
        log.warn({ eventId: event.id, driftId: drift.driftId }, 'drift detected, but the directory names no access administrator to tell');
        return;
      }
      const employeeName = (await directory.relations(drift.employeeId))?.employee.name ?? null;
      const requests = admins.map((admin) => alertRequest(drift, resignationId, admin, employeeName, accessUrl ?? null));
      // Render all before storing any: a drift's alerts go to every administrator or to none.
      for (const r of requests) {
        const prepared = prepareEmail(r.template, r.data);
        if (!prepared.ok) throw new PermanentError(`the drift alert cannot be rendered: ${prepared.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
      }
      const claims = requests.map(() => claimOnInsert(ctx));
      const stored = await ctx.db
        .transaction()
        .execute(async (trx) => {
          if (!(await firstDelivery(trx, NOTIFICATION_SCHEMA, TELL_ACCESS_ADMINS_SUBSCRIBER, event.id))) return [];
          const origin = { correlationId: event.correlationid, traceparent: event.traceparent, causationId: event.id };
          const rows: Array<{ row: EmailRow; claim: ClaimOnInsert | undefined }> = [];
          for (const [i, request] of requests.entries()) {
            const outcome = await storeEmail(trx, ctx.clock, request, undefined, origin, claims[i]);
            if (!outcome.ok) throw new Error(`drift alert to ${request.to.email} rendered once but not twice`);
            rows.push({ row: outcome.row, claim: claims[i] });
          }
          return rows;
        })
        .catch((err: unknown) => {
          claims.forEach((c) => c?.slot.release());
          throw err;
        });
      claims.forEach((c) => {
        if (c && !stored.some((s) => s.claim === c)) c.slot.release();
      });
      if (stored.length > 0) log.info({ driftId: drift.driftId, recipients: stored.length }, 'access administrators told of drift');
      await Promise.all(stored.map(({ row, claim }) => deliverStored(ctx, row, claim)));
    },
  };
}

function alertRequest(drift: EventData<typeof EventTypes.accessDriftDetected>, resignationId: string, admin: Contact, employeeName: string | null, accessUrl: string | null): api.AccessDriftAlertEmail {
  return {
    resignationId,
    purpose: accessDriftPurpose(drift.driftId),
    to: { email: admin.email, name: admin.name },
    template: 'access-drift-alert' as const,
    data: {
      recipientName: admin.name,
      employeeId: drift.employeeId,
      employeeName,
      systemId: drift.systemId,
      kind: drift.kind,
      entitlement: drift.entitlement,
      detail: drift.detail,
      detectedAt: drift.detectedAt,
      accessUrl,
    },
    attachments: [],
  };
}
