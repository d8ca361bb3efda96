import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { conflict, HttpProblem, type Clock } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import type { TraceContext } from '@ems/eventbus';
import { messageIdFor } from '../domain/mail-message.ts';
import { prepareEmail, type DataIssue } from '../domain/templates.ts';
import { claimOnInsert, deliverClaimedOnInsert, deliverEmail, type ClaimOnInsert } from '../deliver-email/deliver-email.ts';
import { toEmail } from '../email.mapper.ts';
import type { NotificationContext } from '../notification.context.ts';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';

/** Who asked for an email: carried into the event its outcome publishes. */
export interface EmailOrigin extends TraceContext {
  /** The event the email reacts to (choreography); none for HTTP requests. */
  causationId?: string | undefined;
}

export interface SendEmailResult {
  /** false when the same email (same case, purpose and recipient, or same Idempotency-Key) already existed. */
  created: boolean;
  email: api.Email;
}

/**
 * Send an email, once per (resignation, purpose, recipient):
 * 1. check the template's data and render subject, text and HTML;
 * 2. store it as `queued` — or find the one stored by an earlier request (the unique indexes decide,
 *    so concurrent identical requests end with one row);
 * 3. try to deliver it right away, waiting at most `waitMs` (the fast path's few seconds, or what the
 *    caller asked for with `Prefer: wait`), so that with a healthy SMTP server the answer already says
 *    `sent`; whatever is not delivered by then, the delivery goes on or the dispatcher retries it.
 * A new email is stored already claimed for step 3 when a send slot is free (see claimOnInsert).
 */
export async function sendEmail(
  ctx: NotificationContext,
  request: api.SendEmailRequest,
  idempotencyKey?: string,
  origin: EmailOrigin = {},
  waitMs: number = ctx.fastPathTimeoutMs,
): Promise<SendEmailResult> {
  const claim = claimOnInsert(ctx);
  let stored: StoreEmailOutcome;
  try {
    stored = await storeEmail(ctx.db, ctx.clock, request, idempotencyKey, origin, claim);
  } catch (err) {
    claim?.slot.release();
    throw err;
  }
  if (!stored.ok) {
    claim?.slot.release();
    throw new HttpProblem(400, stored.issues.map((i) => `body.${i.path}: ${i.message}`).join('; '), {
      type: 'https://ems.dev/problems/validation',
      title: 'Invalid request',
      extra: { errors: stored.issues.map((i) => ({ path: `body.${i.path}`, message: i.message })) },
    });
  }
  const delivered = await deliverStored(ctx, stored.row, claim, waitMs);
  return { created: stored.created, email: toEmail(delivered) };
}

export type StoreEmailOutcome = { ok: true; row: EmailRow; created: boolean } | { ok: false; issues: DataIssue[] };

/**
 * Steps 1 and 2 — render and store once — in the caller's database or transaction (an event handler
 * stores the email in the transaction that marks its event processed). Invalid template data is
 * returned, not thrown, before anything is written.
 */
export async function storeEmail(
  db: Kysely<NotificationDB>,
  clock: Clock,
  request: api.SendEmailRequest,
  idempotencyKey: string | undefined,
  origin: EmailOrigin,
  claim?: Pick<ClaimOnInsert, 'token' | 'until'>,
): Promise<StoreEmailOutcome> {
  const prepared = prepareEmail(request.template, request.data);
  if (!prepared.ok) return { ok: false, issues: prepared.issues };
  return { ok: true, ...(await storeOnce(db, clock, request, prepared.data, prepared.rendered, idempotencyKey, origin, claim)) };
}

async function storeOnce(
  db: Kysely<NotificationDB>,
  clock: Clock,
  request: api.SendEmailRequest,
  data: Record<string, unknown>,
  rendered: { subject: string; text: string; html: string },
  idempotencyKey: string | undefined,
  origin: EmailOrigin,
  claim: Pick<ClaimOnInsert, 'token' | 'until'> | undefined,
): Promise<{ row: EmailRow; created: boolean }> {
  const id = randomUUID();
  const now = clock.now();
  const inserted = await db
    .insertInto('emails')
    .values({
      id,
      resignation_id: request.resignationId,
      purpose: request.purpose,
      recipient: request.to.email,
      recipient_name: request.to.name?.trim() ? request.to.name : null,
      template: request.template,
      data: JSON.stringify(data),
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      attachments: JSON.stringify(request.attachments),
      next_attempt_at: now,
      message_id: messageIdFor(id),
      idempotency_key: idempotencyKey ?? null,
      created_at: now,
      correlation_id: origin.correlationId ?? null,
      traceparent: origin.traceparent ?? null,
      causation_id: origin.causationId ?? null,
      // Claimed by the caller, who sends it as soon as this commits: what claim() would write.
      ...(claim ? { attempts: 1, claim_token: claim.token, claimed_until: claim.until } : {}),
    })
    // Either unique index (natural key or Idempotency-Key) may refuse the row: then it already exists.
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { row: inserted, created: true };

  if (idempotencyKey !== undefined) {
    const byKey = await db.selectFrom('emails').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    if (byKey) {
      const same =
        byKey.resignation_id === request.resignationId && byKey.purpose === request.purpose && byKey.recipient.toLowerCase() === request.to.email.toLowerCase();
      if (!same) throw conflict('This Idempotency-Key was already used for a different email', { emailId: byKey.id });
      return { row: byKey, created: false };
    }
  }
  const existing = await db
    .selectFrom('emails')
    .selectAll()
    .where('resignation_id', '=', request.resignationId)
    .where('purpose', '=', request.purpose)
    .where((eb) => eb(eb.fn('lower', ['recipient']), '=', eb.fn('lower', [eb.val(request.to.email)])))
    .executeTakeFirst();
  if (!existing) throw new Error(`email for ${request.resignationId}/${request.purpose} conflicted but cannot be found`);
  return { row: existing, created: false };
}

/**
 * After the email is stored (and committed): send it now if it is still queued — with the claim it was
 * inserted with, if it got it (a row that existed already was not), else by claiming it. Takes over
 * `claim`: its slot is released whatever happens.
 */
export async function deliverStored(ctx: NotificationContext, row: EmailRow, claim: ClaimOnInsert | undefined, waitMs: number = ctx.fastPathTimeoutMs): Promise<EmailRow> {
  if (claim && row.status === 'queued' && row.claim_token === claim.token) return deliverNow(ctx, row, claim, waitMs);
  claim?.slot.release();
  return row.status === 'queued' ? deliverNow(ctx, row, undefined, waitMs) : row;
}

/**
 * The fast path: claim and send this email now, but answer after `waitMs` at the latest (the send
 * then goes on in the background and stop() waits for it). When another worker holds the claim (a
 * concurrent identical request, or the dispatcher), wait for its outcome the same way, reading the
 * row at growing intervals (25 ms doubling to 1 s).
 */
export async function deliverNow(ctx: NotificationContext, row: EmailRow, claimed?: ClaimOnInsert, waitMs: number = ctx.fastPathTimeoutMs): Promise<EmailRow> {
  const deadline = Date.now() + waitMs;
  const attempt = ctx.deliveries.track(
    (claimed ? deliverClaimedOnInsert(ctx, row, claimed) : deliverEmail(ctx, row.id)).catch((err: unknown) => {
      ctx.log.error({ err, emailId: row.id }, 'immediate delivery attempt failed');
      return undefined;
    }),
  );
  const outcome = await within(attempt, waitMs);
  if (outcome) return outcome;

  let current = row;
  for (let pause = 25; ; pause = Math.min(pause * 2, 1_000)) {
    current = (await ctx.db.selectFrom('emails').selectAll().where('id', '=', row.id).executeTakeFirst()) ?? current;
    if (current.claim_token === null || Date.now() >= deadline) return current;
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
  }
}

/** The promise's value, or undefined if it takes longer than `ms` (the promise itself runs on). */
async function within<T>(promise: Promise<T | undefined>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
