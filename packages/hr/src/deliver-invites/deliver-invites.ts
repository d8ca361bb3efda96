import { sql } from 'kysely';
import { arrayParam, backoffDelay, groupCommit, type Logger, type ServiceCallError } from '@ems/platform';
import { notification } from '@ems/contracts';
import type { HrDb } from '../db/hr.db.ts';
import { isRefusedByNotification, notificationRetry, type NotificationClient } from '../notification/notification.client.ts';
import type { QueuedEmail } from './outbox.ts';

/**
 * Hands queued invite emails to the Notification service over HTTP: an interview's invites (employee and HR
 * partner) in one call (POST /api/email-batches).
 *
 * At-least-once: an email is marked sent only after Notification accepted it, so a crash in between
 * sends it again, which Notification de-duplicates on (resignationId, purpose, recipient). A claimed
 * row is leased (next_attempt_at pushed out) rather than locked across the HTTP call, so no database
 * connection waits on another service and two relays never send the same row at once. A freshly queued
 * row is already reserved for the request that queued it (outbox.ts): that request sends it as it queued
 * it, without claiming it first — one statement after the calls (mark sent) instead of three.
 */
export interface InviteDelivery {
  /** Fast path: delivers these rows right now, if they are still pending. Never throws. */
  deliverNow(queued: readonly QueuedEmail[]): Promise<void>;
  /**
   * Delivers these rows soon, in the background, at most SOON_CONCURRENCY batches at a time (the rest
   * wait their turn in memory; after a crash the relay finds them once their reservation ends). For
   * event handlers: a handler that waited for Notification and SMTP held its slot for the whole
   * delivery — measured as the bound of choreography's burst (interview p50 15 s for 1,000 cases).
   */
  deliverSoon(queued: readonly QueuedEmail[]): void;
  /** Relay: delivers up to `limit` rows that are due; returns how many it claimed. */
  deliverDue(limit: number): Promise<number>;
  /** Forgets what deliverSoon has not started (the relay delivers it later) and waits for what it has. */
  stop(): Promise<void>;
}

const SOON_CONCURRENCY = 8;
/** The most cases' invites marked sent by one statement. */
const MARK_SENT_TOGETHER = 32;

export interface InviteDeliveryOptions {
  db: HrDb;
  log: Logger;
  /** Where the emails go (Notification over HTTP). */
  client: NotificationClient;
  /** First retry delay; doubles with every failed attempt (see notificationRetry). */
  retryBaseMs: number;
  /** Per-call timeout; the fast path is on a user's request, so it is short. */
  timeoutMs?: number;
}

const LEASE_MS = 60_000;

/**
 * Time kept in hand before a fresh row's reservation ends: the fast path sends without claiming only while
 * the relay surely leaves the row alone (its two calls, with their timeouts, end well inside the reservation).
 */
const RESERVATION_MARGIN_MS = 15_000;

export function createInviteDelivery(options: InviteDeliveryOptions): InviteDelivery {
  const { db, log } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;

  /**
   * A row to send; `attempts` counts this attempt (a new row's first one is counted when it is queued, see outbox.ts).
   * `checked`: the request is the contract's parse made as it was queued (QueuedEmail: outboxRows' output); a row read
   * back from the table never is, whatever its type says.
   */
  type ToSend = { id: number; request: notification.SendEmailRequest; attempts: number; checked?: true };

  async function claim(filter: { ids: readonly number[] } | { due: number }): Promise<ToSend[]> {
    return db
      .updateTable('outbox')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        next_attempt_at: sql<Date>`now() + ${LEASE_MS} * interval '1 millisecond'`,
      }))
      .where('id', 'in', (eb) => {
        // A literal: a prepared statement's generic plan can then use the partial index outbox_due (status = 'pending').
        let q = eb.selectFrom('outbox').select('id').where('status', '=', sql.lit('pending'));
        q = 'ids' in filter ? q.where('id', 'in', [...filter.ids]) : q.where('next_attempt_at', '<=', sql<Date>`now()`).orderBy('id').limit(filter.due);
        return q.forUpdate().skipLocked();
      })
      .returning(['id', 'request', 'attempts'])
      .execute();
  }

  /** Rows Notification accepted, marked sent (unless something else settled them meanwhile). */
  const markSentNow = async (ids: readonly number[]): Promise<void> => {
    // One text whatever the number of rows: the ids travel as one array.
    await db
      .updateTable('outbox')
      .set({ status: 'sent', sent_at: new Date(), last_error: null })
      .where(sql<boolean>`id = any(${arrayParam([...ids], 'bigint')})`)
      // 'pending' in the text: a generic plan can then read the rows by the pending rows' partial index, as a custom plan
      // does; with the status a parameter, the custom plan always looked cheaper and the statement was planned at every call.
      .where('status', '=', sql.lit('pending'))
      .execute();
  };
  /**
   * The cases whose invites Notification accepts at the same time, marked sent by one statement (platform's
   * groupCommit): in a burst each case's mark was an autocommit of its own. A mark made while none is being
   * written goes at once, alone.
   */
  const markSent = groupCommit<readonly number[], void>({
    together: async (batch) => {
      await markSentNow(batch.flat());
      return batch.map(() => ({ ok: true as const, value: undefined }));
    },
    alone: markSentNow,
    max: MARK_SENT_TOGETHER,
    atOnce: 1,
  });

  const keyOf = (request: notification.SendEmailRequest) => `hr:${request.purpose}:${request.to.email}`;

  async function giveUp(rows: readonly ToSend[], message: string): Promise<void> {
    if (rows.length === 0) return;
    await db.updateTable('outbox').set({ status: 'failed', last_error: message.slice(0, 2000) }).where('id', 'in', rows.map((r) => r.id)).execute();
  }

  /** Which emails of a refused batch its problem names (body.emails.<i>…); none named: the refusal is the batch's. */
  function namedItems(err: ServiceCallError, count: number): Set<number> {
    const errors = (err.body as { errors?: { path?: unknown }[] } | undefined)?.errors;
    const named = new Set<number>();
    for (const e of Array.isArray(errors) ? errors : []) {
      const i = typeof e.path === 'string' ? /^body\.emails\.(\d+)\./.exec(e.path)?.[1] : undefined;
      if (i !== undefined && Number(i) < count) named.add(Number(i));
    }
    return named;
  }

  /**
   * Sends the rows to Notification in ONE call (one store, one commit there), then marks every accepted one sent
   * in one statement, with the other cases' accepted at the same time (markSent). At-least-once: a crash before the
   * mark sends again later, which Notification answers with the email it already has. A refusal that names emails
   * gives up on those and sends the others again at once; one that names none gives up on all; anything else is
   * retried later with backoff.
   */
  async function deliverCase(rows: readonly ToSend[]): Promise<void> {
    // What comes out of the table is checked like any input; a malformed row can never be sent. What the fast path
    // queued was checked as it was queued and goes as it was (parsed again, it was ≈ 0.7 % of the thread in a burst).
    const valid: ToSend[] = [];
    for (const row of rows) {
      if (row.checked) {
        valid.push(row);
        continue;
      }
      const checked = notification.SendEmailRequest.safeParse(row.request);
      if (checked.success) valid.push({ ...row, request: checked.data });
      else {
        log.error({ outboxId: row.id, err: checked.error.message }, 'queued interview email is malformed; giving up on it');
        await giveUp([row], checked.error.message);
      }
    }
    let pending = valid;
    while (pending.length > 0) {
      const batch = pending;
      let outcomes: notification.SentEmailOutcome[];
      try {
        outcomes = await options.client.sendEmails(batch.map((r) => ({ request: r.request, idempotencyKey: keyOf(r.request) })), { timeoutMs });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (isRefusedByNotification(err)) {
          // Notification refused an email itself (4xx): retrying the same request cannot succeed.
          const named = namedItems(err, batch.length);
          const refused = named.size > 0 ? batch.filter((_, i) => named.has(i)) : batch;
          log.error({ outboxIds: refused.map((r) => r.id), purposes: refused.map((r) => r.request.purpose), err: message }, 'notification refused an interview email; giving up on it');
          await giveUp(refused, message);
          pending = named.size > 0 ? batch.filter((_, i) => !named.has(i)) : [];
          continue;
        }
        // One delay for the case's emails, so they stay together and go in one call again (one statement, too).
        const attempts = Math.max(...batch.map((r) => r.attempts));
        const delay = backoffDelay(attempts, notificationRetry(options.retryBaseMs));
        log.warn({ outboxIds: batch.map((r) => r.id), purposes: batch.map((r) => r.request.purpose), attempts, retryInMs: delay, err: message }, 'interview emails not delivered yet; will retry');
        await db
          .updateTable('outbox')
          .set({ next_attempt_at: sql<Date>`now() + ${delay} * interval '1 millisecond'`, last_error: message.slice(0, 2000) })
          .where('id', 'in', batch.map((r) => r.id))
          .execute();
        return;
      }
      pending = [];
      const conflicts = batch.filter((_, i) => outcomes[i]?.state === 'conflict');
      for (const row of conflicts) {
        log.error({ outboxId: row.id, purpose: row.request.purpose }, 'notification refused an interview email (its key names another email); giving up on it');
      }
      await giveUp(conflicts, 'refused by Notification: its Idempotency-Key was already used for a different email');
      const sent = batch.filter((_, i) => outcomes[i]?.state !== 'conflict');
      if (sent.length === 0) return;
      await markSent(sent.map((r) => r.id));
    }
  }

  /** The relay's rows may belong to several cases: one call per case (a case Notification refuses fails alone). */
  async function deliver(rows: readonly ToSend[]): Promise<void> {
    const byCase = new Map<string, ToSend[]>();
    for (const row of rows) {
      const key = (row.request as { resignationId?: unknown } | null)?.resignationId;
      const group = byCase.get(String(key)) ?? [];
      group.push(row);
      byCase.set(String(key), group);
    }
    await Promise.all([...byCase.values()].map(deliverCase));
  }

  async function deliverNow(queued: readonly QueuedEmail[]): Promise<void> {
    if (queued.length === 0) return;
    try {
      // Rows still in their reservation are this caller's alone: sent as they are, no claim. Older ones
      // (deliverSoon's queue can be long in a burst) may be the relay's by now: claimed first, as it does.
      const reservedAfter = Date.now() + RESERVATION_MARGIN_MS;
      const fresh = queued.filter((q) => q.reservedUntil > reservedAfter);
      const stale = queued.filter((q) => q.reservedUntil <= reservedAfter);
      const claimed = stale.length ? await claim({ ids: stale.map((q) => q.id) }) : [];
      await deliver([...fresh.map((q) => ({ id: q.id, request: q.request, attempts: 1, checked: true as const })), ...claimed]);
    } catch (err) {
      // The rows stay queued; the relay delivers them once their lease runs out.
      log.warn({ err }, 'fast-path delivery of interview emails failed; the relay will retry');
    }
  }

  const waiting: (readonly QueuedEmail[])[] = [];
  const running = new Set<Promise<void>>();
  function pump(): void {
    while (running.size < SOON_CONCURRENCY && waiting.length > 0) {
      const p: Promise<void> = deliverNow(waiting.shift()!).finally(() => {
        running.delete(p);
        pump();
      });
      running.add(p);
    }
  }

  return {
    deliverNow,
    deliverSoon(queued) {
      if (queued.length === 0) return;
      waiting.push(queued);
      pump();
    },
    async stop() {
      waiting.length = 0;
      while (running.size > 0) await Promise.all([...running]);
    },
    async deliverDue(limit) {
      const rows = await claim({ due: limit });
      await deliver(rows);
      return rows.length;
    },
  };
}
