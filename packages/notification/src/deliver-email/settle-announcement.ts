import type { Kysely } from 'kysely';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type CloudEvent, type EventBus } from '@ems/eventbus';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import { announcementOutcome, AUDIENCES, decisionNoticePurpose, type AnnouncementKey, type Audience } from '../domain/decision-notice.ts';

/**
 * The end of an announcement, decided under a lock:
 *
 *   transaction of a decision notice's final status:
 *     lock the announcement row ─► write the email's status ─► every email final (and the employee's there)?
 *                                                              └─ yes, not settled yet: settle + publish
 *                                                                 decisionAnnounced / decisionAnnouncementFailed
 *
 * Two emails of one announcement finishing at once take the lock one after the other; the second sees
 * the first's committed status and settles. `outcome` is set in the transaction that publishes, so the
 * event exists iff the announcement is marked settled, and is published once.
 */

/** Locks the announcement's row, creating it on first use. First statement of the transaction. */
export async function lockAnnouncement(trx: Kysely<NotificationDB>, key: AnnouncementKey): Promise<void> {
  // A concurrent first insert makes this one wait for it to commit, then do nothing.
  await trx
    .insertInto('decision_announcements')
    .values({ resignation_id: key.resignationId, decision: key.decision, revision: key.revision })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await trx
    .selectFrom('decision_announcements')
    .select('outcome')
    .where('resignation_id', '=', key.resignationId)
    .where('decision', '=', key.decision)
    .where('revision', '=', key.revision)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/**
 * Under the lock, after `email` (one of the announcement's) got its final status: publishes the
 * announcement's outcome if it is now over and was not settled before.
 */
export async function settleAnnouncement(trx: Kysely<NotificationDB>, bus: EventBus, key: AnnouncementKey, email: EmailRow, now: Date): Promise<void> {
  const marker = await trx
    .selectFrom('decision_announcements')
    .select('outcome')
    .where('resignation_id', '=', key.resignationId)
    .where('decision', '=', key.decision)
    .where('revision', '=', key.revision)
    .executeTakeFirstOrThrow();
  if (marker.outcome !== null) return;

  // The announcement's emails, found by the purposes built for it (one per audience).
  const audienceOf = new Map<string, Audience>(AUDIENCES.map((a) => [decisionNoticePurpose(key.decision, key.revision, a), a]));
  const emails = await trx
    .selectFrom('emails')
    .select(['id', 'purpose', 'recipient', 'status', 'last_error', 'causation_id'])
    .where('resignation_id', '=', key.resignationId)
    .where('purpose', 'in', [...audienceOf.keys()])
    .execute();
  const outcome = announcementOutcome(
    emails.map((e) => ({ id: e.id, audience: audienceOf.get(e.purpose)!, recipient: e.recipient, status: e.status, lastError: e.last_error, causationId: e.causation_id })),
  );
  if (!outcome.settled) return;

  await trx
    .updateTable('decision_announcements')
    .set({ outcome: outcome.outcome, settled_at: now })
    .where('resignation_id', '=', key.resignationId)
    .where('decision', '=', key.decision)
    .where('revision', '=', key.revision)
    .execute();
  const envelope = {
    source: EventSources.notification,
    subject: key.resignationId,
    correlationId: email.correlation_id ?? key.resignationId,
    traceparent: email.traceparent ?? undefined,
    time: now,
  };
  const event: CloudEvent =
    outcome.outcome === 'announced'
      ? createEvent<EventData<typeof EventTypes.decisionAnnounced>>({
          ...envelope,
          type: EventTypes.decisionAnnounced,
          data: { resignationId: key.resignationId, decision: key.decision, revision: key.revision, emailIds: outcome.emailIds, recipients: outcome.recipients },
        })
      : createEvent<EventData<typeof EventTypes.decisionAnnouncementFailed>>({
          ...envelope,
          type: EventTypes.decisionAnnouncementFailed,
          data: { resignationId: key.resignationId, decision: key.decision, revision: key.revision, reason: outcome.reason, causationId: outcome.causationId },
        });
  await bus.publish(trx, [event]);
}
