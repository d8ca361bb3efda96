import { sql, type Kysely } from 'kysely';
import type { NotificationContext } from '../notification.context.ts';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import { decisionNoticeRequests, type DecisionFacts } from '../domain/decision-notice.ts';
import { prepareEmail } from '../domain/templates.ts';
import { claimOnInsert, type ClaimOnInsert } from '../deliver-email/deliver-email.ts';
import { deliverStored, storeEmail, type EmailOrigin } from '../send-email/send-email.ts';

/**
 * The use case: a resignation was decided → tell the manager (if any) and the employee. One core for
 * both modes — the choreography handler (announce-decision-when-decided.ts) and the orchestrator's
 * command (announce-decision.http.ts) only parse their input and call this.
 *
 *   one transaction: [the adapter's own check, e.g. the event not yet processed]
 *                    ─► an exit confirmation overtaken by a newer revision? stop (nobody is told a day
 *                       that no longer holds)
 *                    ─► every notice renders? if not, store none (the adapter reports why)
 *                    ─► store both notices (queued; claimed by this instance when send slots are free)
 *   after commit:    try to deliver them now (waiting up to `waitMs`); the dispatcher retries the rest;
 *                    the last to reach a final status publishes decisionAnnounced / decisionAnnouncementFailed
 *                    (deliver-email/settle-announcement.ts)
 *
 * Asked again (a redelivered event, a retried command) it finds its notices stored — one per case,
 * purpose and recipient — and sends nothing more.
 */
export type Announcement =
  | { outcome: 'stored'; emails: EmailRow[] }
  | { outcome: 'overtaken'; newer: number }
  | { outcome: 'unrenderable'; reason: string }
  /** The adapter's own check said stop (an event already processed). */
  | { outcome: 'skipped' };

export interface AnnounceOptions {
  caseUrl: string | null;
  origin: EmailOrigin;
  /** How long to wait for the deliveries after commit. */
  waitMs?: number;
  /** First thing in the transaction: false stops here (nothing stored). */
  first?: (trx: Kysely<NotificationDB>) => Promise<boolean>;
  /** In the same transaction, when a notice cannot be rendered (choreography publishes its failure event). */
  onUnrenderable?: (trx: Kysely<NotificationDB>, reason: string) => Promise<void>;
}

export async function announceDecision(ctx: NotificationContext, facts: DecisionFacts, options: AnnounceOptions): Promise<Announcement> {
  const requests = decisionNoticeRequests(facts, options.caseUrl);
  // Claimed on insert when send slots are free (see claimOnInsert); released if not used.
  const claims = requests.map(() => claimOnInsert(ctx));
  type Stored = { row: EmailRow; claim: ClaimOnInsert | undefined };
  let decided: Exclude<Announcement, { outcome: 'stored' }> | undefined;
  const stored = await ctx.db
    .transaction()
    .execute(async (trx): Promise<Stored[]> => {
      if (options.first && !(await options.first(trx))) {
        decided = { outcome: 'skipped' };
        return [];
      }
      if (facts.decision === 'exit_confirmed') {
        const newer = await newerExitConfirmation(trx, facts);
        if (newer !== undefined) {
          decided = { outcome: 'overtaken', newer };
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
        await options.onUnrenderable?.(trx, reason);
        decided = { outcome: 'unrenderable', reason };
        return [];
      }
      const rows: Stored[] = [];
      for (const [i, request] of requests.entries()) {
        const claim = claims[i];
        const outcome = await storeEmail(trx, ctx.clock, request, undefined, options.origin, claim);
        if (!outcome.ok) throw new Error(`decision notice to ${request.to.email} rendered once but not twice`);
        rows.push({ row: outcome.row, claim });
      }
      return rows;
    })
    .catch((err: unknown) => {
      claims.forEach((c) => c?.slot.release());
      throw err;
    });
  // Slots of claims no stored row carries (nothing stored, or fewer rows) go back now.
  claims.forEach((c) => {
    if (c && !stored.some((s) => s.claim === c)) c.slot.release();
  });
  if (decided) return decided;
  // Committed: the notices exist, and so will the announcement's outcome, whether sent now or by the dispatcher.
  const emails = await Promise.all(stored.map(({ row, claim }) => deliverStored(ctx, row, claim, options.waitMs)));
  return { outcome: 'stored', emails };
}

/** The newest exit-confirmed revision already announced for the case, when it is newer than this one. */
export async function newerExitConfirmation(trx: Kysely<NotificationDB>, facts: DecisionFacts): Promise<number | undefined> {
  // Read from the notices' typed data (decision, revision), not from their purposes.
  const row = await trx
    .selectFrom('emails')
    .select(sql<number | null>`max((data->>'revision')::int)`.as('newest'))
    .where('resignation_id', '=', facts.resignationId)
    .where('template', '=', 'resignation-decision-notice')
    .where(sql<string>`data->>'decision'`, '=', 'exit_confirmed')
    .executeTakeFirst();
  const newest = row?.newest ?? null;
  return newest !== null && newest > facts.revision ? newest : undefined;
}
