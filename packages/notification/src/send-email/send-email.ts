import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { refuse, type Clock, type RefusalIssue } from '@ems/platform';
import type { notification as api } from '@ems/contracts';
import type { TraceContext } from '@ems/eventbus';
import { messageIdFor } from '../domain/mail-message.ts';
import { prepareEmail, type DataIssue } from '../domain/templates.ts';
import { claimOnInsert, deliverClaimedOnInsert, deliverEmail, type ClaimOnInsert } from '../deliver-email/deliver-email.ts';
import { toEmail } from '../email.mapper.ts';
import type { NotificationContext } from '../notification.context.ts';
import type { EmailRow, NotificationDB } from '../db/notification.db.ts';
import type { StoreEmails } from './store-together.ts';

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
    stored = await storeEmail(ctx.db, ctx.clock, request, idempotencyKey, origin, claim, ctx.storeEmails);
  } catch (err) {
    claim?.slot.release();
    throw err;
  }
  if (!stored.ok) {
    claim?.slot.release();
    throw invalidData(stored.issues.map((i) => ({ path: `body.${i.path}`, message: i.message })));
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
  /** Outside a transaction: the row stored with the other requests' stored at the same time (ctx.storeEmails). */
  store?: StoreEmails,
): Promise<StoreEmailOutcome> {
  const prepared = prepareEmail(request.template, request.data);
  if (!prepared.ok) return { ok: false, issues: prepared.issues };
  return { ok: true, ...(await storeOnce(db, clock, request, prepared.data, prepared.rendered, idempotencyKey, origin, claim, store)) };
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
  store: StoreEmails | undefined,
): Promise<{ row: EmailRow; created: boolean }> {
  const row = emailRow(clock, request, data, rendered, idempotencyKey, origin, claim);
  // Either unique index (natural key or Idempotency-Key) may refuse the row: then it already exists.
  const inserted = store
    ? (await store([row]))[0]
    : await db.insertInto('emails').values(row).onConflict((oc) => oc.doNothing()).returningAll().executeTakeFirst();
  if (inserted) return { row: inserted, created: true };

  if (idempotencyKey !== undefined) {
    const byKey = await db.selectFrom('emails').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    if (byKey) {
      const same =
        byKey.resignation_id === request.resignationId && byKey.purpose === request.purpose && byKey.recipient.toLowerCase() === request.to.email.toLowerCase();
      if (!same) throw refuse.conflict(KEY_REUSED, { detail: { emailId: byKey.id } });
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

const KEY_REUSED = 'This Idempotency-Key was already used for a different email';

/** Template data that does not fit its template: the request is refused before anything is stored. */
function invalidData(issues: RefusalIssue[]) {
  return refuse.invalid(issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
}

/** The row a new email is stored as (queued; claimed by the caller when it holds a send slot). */
function emailRow(
  clock: Clock,
  request: api.SendEmailRequest,
  data: Record<string, unknown>,
  rendered: { subject: string; text: string; html: string },
  idempotencyKey: string | undefined,
  origin: EmailOrigin,
  claim: Pick<ClaimOnInsert, 'token' | 'until'> | undefined,
) {
  const id = randomUUID();
  const now = clock.now();
  return {
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
  };
}

/** One email of a batch: its request (recipient already derived) and its own Idempotency-Key. */
export interface BatchEmail {
  request: api.SendEmailRequest;
  idempotencyKey: string;
}

/**
 * Several emails at once (POST /api/email-batches): every one rendered first — any invalid one refuses the
 * batch before anything is written —, then all stored by ONE INSERT (one round trip, one commit), each once
 * per (resignation, purpose, recipient) and per its own key, then delivered at once, in parallel, waiting
 * at most `waitMs` as sendEmail does. Answers each email's state in the order given. An email whose key
 * was used for another email is answered `conflict` and not stored; the others are stored as usual, each
 * being its own unit (as with one request per email).
 */
export async function sendEmails(ctx: NotificationContext, batch: readonly BatchEmail[], origin: EmailOrigin = {}, waitMs: number = ctx.fastPathTimeoutMs): Promise<api.SentEmailOutcome[]> {
  const issues: RefusalIssue[] = [];
  const prepared = batch.map((item, i) => {
    const p = prepareEmail(item.request.template, item.request.data);
    if (!p.ok) issues.push(...p.issues.map((x) => ({ path: `body.emails.${i}.email.${x.path}`, message: x.message })));
    return p;
  });
  batch.forEach((item, i) => {
    if (batch.findIndex((other) => other.idempotencyKey === item.idempotencyKey) < i) {
      issues.push({ path: `body.emails.${i}.idempotencyKey`, message: 'is the key of an earlier email of this batch: each email has its own' });
    }
  });
  if (issues.length > 0) throw invalidData(issues);

  const claims = batch.map(() => claimOnInsert(ctx));
  let stored: ({ row: EmailRow; created: boolean } | { conflict: EmailRow })[];
  try {
    const values = batch.map((item, i) => {
      const p = prepared[i];
      if (!p?.ok) throw new Error('unreachable: every email was checked above');
      return emailRow(ctx.clock, item.request, p.data, p.rendered, item.idempotencyKey, origin, claims[i]);
    });
    // Either unique index (natural key or Idempotency-Key) may refuse a row: then it already exists. Stored with the
    // other requests' emails stored at the same time (one statement).
    const inserted = await ctx.storeEmails(values);
    const byId = new Map(inserted.map((r) => [r.id, r]));
    const missing = values.filter((v) => !byId.has(v.id));
    // Repeats (or a key reused): what exists already, found in one statement.
    const existing = missing.length === 0 ? [] : await findExisting(ctx.db, missing);
    stored = values.map((v) => {
      const mine = byId.get(v.id);
      if (mine) return { row: mine, created: true };
      const byKey = existing.find((e) => e.idempotency_key === v.idempotency_key);
      if (byKey) return sameEmail(byKey, v) ? { row: byKey, created: false } : { conflict: byKey };
      const same = existing.find((e) => sameEmail(e, v));
      if (!same) throw new Error(`email for ${v.resignation_id}/${v.purpose} conflicted but cannot be found`);
      return { row: same, created: false };
    });
  } catch (err) {
    for (const c of claims) c?.slot.release();
    throw err;
  }
  return Promise.all(
    stored.map(async (s, i): Promise<api.SentEmailOutcome> => {
      const claim = claims[i];
      if ('conflict' in s) {
        claim?.slot.release();
        return { state: 'conflict', detail: KEY_REUSED, emailId: s.conflict.id };
      }
      const email = toEmail(await deliverStored(ctx, s.row, claim, waitMs));
      return s.created ? { state: 'created', email } : { state: 'existing', email };
    }),
  );
}

type EmailKey = Pick<EmailRow, 'resignation_id' | 'purpose' | 'recipient'>;
const sameEmail = (a: EmailKey, b: EmailKey) => a.resignation_id === b.resignation_id && a.purpose === b.purpose && a.recipient.toLowerCase() === b.recipient.toLowerCase();

/** The stored emails that refused these rows: by their Idempotency-Key, or by their (resignation, purpose). */
async function findExisting(db: Kysely<NotificationDB>, rows: readonly (EmailKey & { idempotency_key: string | null })[]): Promise<EmailRow[]> {
  const keys = rows.flatMap((r) => (r.idempotency_key === null ? [] : [r.idempotency_key]));
  return db
    .selectFrom('emails')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(keys.length > 0 ? [eb('idempotency_key', 'in', keys)] : []),
        ...rows.map((r) => eb.and([eb('resignation_id', '=', r.resignation_id), eb('purpose', '=', r.purpose)])),
      ]),
    )
    .execute();
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
 * row at growing intervals (25 ms doubling to 1 s). A caller that asks not to wait (`Prefer: wait=0`) is answered the
 * email as stored, read back by nothing; its send goes on.
 */
export async function deliverNow(ctx: NotificationContext, row: EmailRow, claimed?: ClaimOnInsert, waitMs: number = ctx.fastPathTimeoutMs): Promise<EmailRow> {
  const deadline = Date.now() + waitMs;
  const attempt = ctx.deliveries.track(
    (claimed ? deliverClaimedOnInsert(ctx, row, claimed) : deliverEmail(ctx, row.id)).catch((err: unknown) => {
      ctx.log.error({ err, emailId: row.id }, 'immediate delivery attempt failed');
      return undefined;
    }),
  );
  if (waitMs <= 0) return row;
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
