import { EventSources, EventTypes, ExitConfirmed, ResignationRetained, ResignationWithdrawn, type EventData } from '@ems/contracts/events';
import { Uuid } from '@ems/contracts';
import { createEvent, firstDelivery, type CloudEvent, type EventBus, type Subscription } from '@ems/eventbus';
import type { NotificationContext } from '../context.ts';
import { NOTIFICATION_SCHEMA, type EmailRow } from '../db/schema.ts';
import { DECISION_NOTICE_PREFIX, decisionNoticeRequests, parseDecisionNoticePurpose, type DecisionFacts } from '../domain/decision-notice.ts';
import { prepareEmail } from '../domain/templates.ts';
import { claimOnInsert, type ClaimOnInsert } from '../deliver-email/deliver-email.ts';
import { deliverStored, storeEmail } from '../send-email/send-email.ts';
import { PermanentError } from '@ems/platform';

export const ANNOUNCE_DECISION_SUBSCRIBER = 'notification.announce-decision-when-decided';

/**
 * Choreography: a resignation was decided (retained, withdrawn, exit confirmed) → tell the manager
 * (if any) and the employee.
 *
 *   one transaction: mark the event processed ─► store both notices (queued), purposes
 *                    decision-notice:<decision>:<revision>:manager|employee
 *                    (a notice that cannot be rendered: store none, publish decisionAnnouncementFailed)
 *   after commit:    try to deliver both now; the dispatcher retries the rest; the last of the two to
 *                    reach a final status publishes decisionAnnounced / decisionAnnouncementFailed
 *                    (see settle-announcement.ts)
 *
 * A redelivered event finds its id processed and changes nothing; the same decision published again
 * under another id finds its notices already stored (one per case, purpose and recipient). An exit
 * confirmation older than one already announced (a revision overtaken on the bus) is not announced:
 * its notices would tell people a last working day that no longer holds.
 */
export function announceDecisionWhenDecided(ctx: NotificationContext & { bus: EventBus }, caseUrl: ((resignationId: string) => string) | undefined): Subscription {
  const { bus, log } = ctx;
  return {
    name: ANNOUNCE_DECISION_SUBSCRIBER,
    types: [EventTypes.resignationRetained, EventTypes.resignationWithdrawn, EventTypes.exitConfirmed],
    async handle(event) {
      const facts = decisionFacts(event);
      const requests = decisionNoticeRequests(facts, caseUrl ? caseUrl(facts.resignationId) : null);
      // Claimed on insert when send slots are free (see claimOnInsert); released if not used.
      const claims = requests.map(() => claimOnInsert(ctx));
      const releaseAll = () => claims.forEach((c) => c?.slot.release());
      const stored = await ctx.db.transaction().execute(async (trx): Promise<{ row: EmailRow; claim: ClaimOnInsert | undefined }[]> => {
        if (!(await firstDelivery(trx, NOTIFICATION_SCHEMA, ANNOUNCE_DECISION_SUBSCRIBER, event.id))) return [];
        if (facts.decision === 'exit_confirmed') {
          const announced = await trx
            .selectFrom('emails')
            .select('purpose')
            .where('resignation_id', '=', facts.resignationId)
            .where('purpose', 'like', `${DECISION_NOTICE_PREFIX}:exit_confirmed:%`)
            .execute();
          const newer = announced.map((e) => parseDecisionNoticePurpose(e.purpose)?.revision ?? 0).filter((r) => r > facts.revision);
          if (newer.length > 0) {
            log.info({ eventId: event.id, resignationId: facts.resignationId, revision: facts.revision, newer: Math.max(...newer) }, 'exit confirmation overtaken by a newer revision; not announced');
            return [];
          }
        }
        // Both notices or neither: check every one renders before storing any.
        const issues = requests.flatMap((r) => {
          const prepared = prepareEmail(r.template, r.data);
          return prepared.ok ? [] : prepared.issues.map((i) => `${r.to.email}: ${i.path}: ${i.message}`);
        });
        if (issues.length > 0) {
          const reason = `the decision notice cannot be rendered: ${issues.join('; ')}`;
          await bus.publish(trx, [announcementFailed(event, facts.resignationId, reason, ctx.clock.now())]);
          log.warn({ eventId: event.id, resignationId: facts.resignationId, reason }, 'decision not announced');
          return [];
        }
        const origin = { correlationId: event.correlationid, traceparent: event.traceparent, causationId: event.id };
        const rows: { row: EmailRow; claim: ClaimOnInsert | undefined }[] = [];
        for (const [i, request] of requests.entries()) {
          const claim = claims[i];
          const outcome = await storeEmail(trx, ctx.clock, request, undefined, origin, claim);
          if (!outcome.ok) throw new Error(`decision notice to ${request.to.email} rendered once but not twice`);
          rows.push({ row: outcome.row, claim });
        }
        return rows;
      }).catch((err: unknown) => {
        releaseAll();
        throw err;
      });
      // Slots of claims no stored row carries (nothing stored, or fewer rows) go back now.
      claims.forEach((c) => {
        if (c && !stored.some((s) => s.claim === c)) c.slot.release();
      });
      // Committed: the notices exist, and so will the announcement's outcome, whether sent now or by the dispatcher.
      await Promise.all(stored.map(({ row, claim }) => deliverStored(ctx, row, claim)));
    },
    async onDeadLetter(event, reason) {
      // The payload may be what made the event a dead letter: the subject names the case too.
      const resignationId = resignationIdOf(event) ?? event.subject;
      if (!Uuid.safeParse(resignationId).success) {
        log.error({ eventId: event.id, reason }, 'dead-lettered event names no resignation; no failure event published');
        return;
      }
      await ctx.db.transaction().execute((trx) => bus.publish(trx, [announcementFailed(event, resignationId, reason, ctx.clock.now())]));
      log.error({ eventId: event.id, resignationId, reason }, 'gave up announcing the decision');
    },
  };
}

/** What the notices are written from, whichever of the three events it is. */
function decisionFacts(event: CloudEvent): DecisionFacts {
  switch (event.type) {
    case EventTypes.resignationRetained:
      return { ...common(ResignationRetained.parse(event.data)), decision: 'retained', revision: 1 };
    case EventTypes.resignationWithdrawn:
      return { ...common(ResignationWithdrawn.parse(event.data)), decision: 'withdrawn', revision: 1 };
    case EventTypes.exitConfirmed: {
      const data = ExitConfirmed.parse(event.data);
      return { ...common(data), decision: 'exit_confirmed', revision: data.revision, lastWorkingDay: data.lastWorkingDay, revokeAt: data.revokeAt };
    }
    default:
      throw new PermanentError(`${ANNOUNCE_DECISION_SUBSCRIBER} does not handle ${event.type}`);
  }
}

/** The resignation id of a (possibly malformed) decision event, if it has one. */
function resignationIdOf(event: CloudEvent): string | undefined {
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || !('resignationId' in data)) return undefined;
  return typeof data.resignationId === 'string' ? data.resignationId : undefined;
}

function common(data: EventData<typeof EventTypes.resignationRetained>): Omit<DecisionFacts, 'decision' | 'revision'> {
  return {
    resignationId: data.resignationId,
    employee: { name: data.employee.name, email: data.employee.email },
    manager: data.manager ? { name: data.manager.name, email: data.manager.email } : null,
    note: data.note,
  };
}

function announcementFailed(cause: CloudEvent, resignationId: string, reason: string, at: Date): CloudEvent {
  return createEvent<EventData<typeof EventTypes.decisionAnnouncementFailed>>({
    type: EventTypes.decisionAnnouncementFailed,
    source: EventSources.notification,
    subject: resignationId,
    correlationId: cause.correlationid,
    traceparent: cause.traceparent,
    time: at,
    data: { resignationId, ...announcementOf(cause), reason: reason.slice(0, 2000) || 'unknown error', causationId: cause.id },
  });
}

/** The decision and revision a decision event announces, when it says (an unreadable one does not). */
function announcementOf(cause: CloudEvent): { decision?: 'retained' | 'withdrawn' | 'exit_confirmed'; revision?: number } {
  const decision =
    cause.type === EventTypes.resignationRetained ? 'retained' : cause.type === EventTypes.resignationWithdrawn ? 'withdrawn' : cause.type === EventTypes.exitConfirmed ? 'exit_confirmed' : undefined;
  if (!decision) return {};
  const revision = (cause.data as { revision?: unknown } | null)?.revision;
  return { decision, revision: typeof revision === 'number' && Number.isInteger(revision) && revision >= 1 ? revision : 1 };
}
