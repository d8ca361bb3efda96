import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { notification as api } from '@ems/contracts';
import { EventSources, EventTypes, type EventData, type ExitPerson } from '@ems/contracts/events';
import { createEvent, nameUuid, type TraceContext } from '@ems/eventbus';
import type { NotificationContext } from '../notification.context.ts';
import { NOTIFICATION_SCHEMA, type NotificationDB } from '../db/notification.db.ts';
import { messageIdFor } from '../domain/mail-message.ts';
import { prepareEmail } from '../domain/templates.ts';

/**
 * Involuntary and mass exits, Notification's part: tell each person of a chunk, and their manager (if
 * any), that every grant is suspended and when it is revoked — only people whose access Access reported
 * suspended (the notice says so: a fact only then).
 *
 *   BEGIN
 *     lock the chunk's row (exit_notices) ──outcome there──▶ answer it; nothing else   (idempotent)
 *     render every notice (JS), queue them all with ONE INSERT … SELECT over unnest arrays (the outbox:
 *       the dispatcher delivers and retries; one email per case, purpose and recipient)
 *     publish exitNoticesSent; record it as the chunk's outcome
 *   COMMIT
 *
 * "Sent" in the outcome means queued in this transaction: past it, delivery is the outbox's own retry.
 * Both adapters call this: the orchestrator's command (tell-exit.http.ts) with the people Access
 * reported suspended, and the choreography handler (tell-exit-when-access-suspended.ts) once both
 * events of the chunk are in.
 */

export type ExitNoticesSentData = EventData<typeof EventTypes.exitNoticesSent>;
type ExitAccessSuspendedData = EventData<typeof EventTypes.exitAccessSuspended>;
type StartedData = EventData<typeof EventTypes.involuntaryExitsStarted>;

/** One chunk to tell: whom (access suspended), and who is not told and why (decided before). */
export interface NoticeChunk {
  batchId: string;
  chunk: number;
  reason: api.SendExitNoticesRequest['reason'];
  tell: readonly ExitPerson[];
  notTold: ExitNoticesSentData['failed'];
}

export interface TellExitResult {
  outcome: ExitNoticesSentData;
  /** true when the chunk was told before: its outcome, nothing queued now. */
  repeated: boolean;
  /** Emails queued now. */
  queued: number;
}

export interface TellExitOptions {
  trace: TraceContext;
  /** The event reacted to (choreography), recorded on each email. */
  causationId?: string | undefined;
  caseUrl?: ((resignationId: string) => string) | undefined;
}

const table = (name: string) => sql.table(`${NOTIFICATION_SCHEMA}.${name}`);

interface ChunkRow {
  started: StartedData | null;
  suspended: ExitAccessSuspendedData | null;
  outcome: ExitNoticesSentData | null;
}

/**
 * Locks the chunk's row (creating it), writing the halves given, and answers what it holds: one upsert,
 * so two handlers of one chunk run one after the other and the second sees the first's half.
 */
export async function lockChunk(trx: Kysely<NotificationDB>, ctx: Pick<NotificationContext, 'clock'>, key: { batchId: string; chunk: number }, halves: { started?: StartedData; suspended?: ExitAccessSuspendedData } = {}): Promise<ChunkRow> {
  const started = halves.started ? JSON.stringify(halves.started) : null;
  const suspended = halves.suspended ? JSON.stringify(halves.suspended) : null;
  const { rows } = await sql<ChunkRow>`
    INSERT INTO ${table('exit_notices')} AS n (batch_id, chunk, started, suspended, updated_at)
    VALUES (${key.batchId}, ${key.chunk}, ${started}::jsonb, ${suspended}::jsonb, ${ctx.clock.now()})
    ON CONFLICT (batch_id, chunk) DO UPDATE
      SET started = CASE WHEN n.outcome IS NULL THEN coalesce(EXCLUDED.started, n.started) END,
          suspended = CASE WHEN n.outcome IS NULL THEN coalesce(EXCLUDED.suspended, n.suspended) END,
          updated_at = EXCLUDED.updated_at
    RETURNING n.started, n.suspended, n.outcome`.execute(trx);
  return rows[0]!;
}

/** The orchestrator's command: one chunk, the people Access reported suspended. Its own transaction. */
export async function tellExit(ctx: NotificationContext, request: api.SendExitNoticesRequest, options: TellExitOptions): Promise<TellExitResult> {
  const result = await ctx.db.transaction().execute(async (trx) => {
    const row = await lockChunk(trx, ctx, request);
    if (row.outcome) return { outcome: row.outcome, repeated: true, queued: 0 };
    return tellChunkInTransaction(trx, ctx, { batchId: request.batchId, chunk: request.chunk, reason: request.reason, tell: request.exits, notTold: [] }, options);
  });
  logTold(ctx, result);
  return result;
}

/**
 * The chunk's two halves (choreography) → whom to tell: the people Access reported suspended; the others
 * are not told, with Access's reason (or, for anyone Access did not mention, that it did not).
 */
export function noticeChunkOf(started: StartedData, suspended: ExitAccessSuspendedData): NoticeChunk {
  const ok = new Set(suspended.suspended.map((s) => s.resignationId));
  const failed = new Map(suspended.failed.map((f) => [f.resignationId, f.reason]));
  const notTold: ExitNoticesSentData['failed'] = [];
  for (const e of started.exits) {
    if (ok.has(e.resignationId)) continue;
    const why = failed.get(e.resignationId);
    notTold.push({ resignationId: e.resignationId, reason: `not told: access was not suspended (${why ?? 'Access did not report this person'})`.slice(0, 2000) });
  }
  return { batchId: started.batchId, chunk: started.chunk, reason: started.reason, tell: started.exits.filter((e) => ok.has(e.resignationId)), notTold };
}

/** Queues the chunk's notices, publishes and records exitNoticesSent — in the caller's transaction, the chunk's row locked. */
export async function tellChunkInTransaction(trx: Kysely<NotificationDB>, ctx: NotificationContext, c: NoticeChunk, options: TellExitOptions): Promise<TellExitResult> {
  const now = ctx.clock.now();
  const emails: Array<{ resignationId: string; purpose: string; to: string; name: string; data: Record<string, unknown>; subject: string; text: string; html: string }> = [];
  const sent: ExitNoticesSentData['sent'] = [];
  const failed: ExitNoticesSentData['failed'] = [...c.notTold];

  for (const e of c.tell) {
    const audiences: Array<{ audience: 'employee' | 'manager'; to: string; name: string }> = [
      { audience: 'employee', to: e.employeeEmail, name: e.employeeName },
      ...(e.managerEmail && e.managerName ? [{ audience: 'manager' as const, to: e.managerEmail, name: e.managerName }] : []),
    ];
    const rendered = audiences.map((a) => ({
      ...a,
      prepared: prepareEmail('involuntary-exit-notice', {
        recipientName: a.name,
        audience: a.audience,
        employeeName: e.employeeName,
        reason: c.reason,
        lastWorkingDay: e.lastWorkingDay,
        revokeAt: e.revokeAt,
        timezone: e.timezone,
        managerName: e.managerName,
        caseUrl: options.caseUrl ? options.caseUrl(e.resignationId) : null,
      } satisfies api.ExitNoticeEmail['data']),
    }));
    const broken = rendered.flatMap((r) => (r.prepared.ok ? [] : r.prepared.issues.map((i) => `${r.audience}: ${i.path}: ${i.message}`)));
    if (broken.length > 0) {
      failed.push({ resignationId: e.resignationId, reason: `the notices cannot be rendered: ${broken.join('; ')}`.slice(0, 2000) });
      continue;
    }
    for (const r of rendered) {
      if (!r.prepared.ok) continue;
      emails.push({ resignationId: e.resignationId, purpose: api.EmailPurposes.exitNotice(r.audience), to: r.to, name: r.name, data: r.prepared.data, ...r.prepared.rendered });
    }
    sent.push({ resignationId: e.resignationId, managerTold: audiences.length > 1, employeeTold: true });
  }

  let queued = 0;
  if (emails.length > 0) {
    const ids = emails.map(() => randomUUID());
    const col = <T>(f: (m: (typeof emails)[number]) => T): T[] => emails.map(f);
    // One email per (case, purpose, recipient): a person told before (an earlier attempt of this chunk
    // that got as far, or the same case in another chunk) is not queued twice.
    const inserted = await sql`
      INSERT INTO ${table('emails')}
        (id, resignation_id, purpose, recipient, recipient_name, template, data, subject, text, html, attachments,
         next_attempt_at, message_id, created_at, correlation_id, traceparent, causation_id)
      SELECT u.id, u.resignation_id, u.purpose, u.recipient, u.recipient_name, 'involuntary-exit-notice', u.data::jsonb,
             u.subject, u.text, u.html, '[]'::jsonb, ${now}, u.message_id, ${now}, ${options.trace.correlationId ?? c.batchId},
             ${options.trace.traceparent ?? null}, ${options.causationId ?? null}
        FROM unnest(${ids}::uuid[], ${col((m) => m.resignationId)}::uuid[], ${col((m) => m.purpose)}::text[], ${col((m) => m.to)}::text[],
                    ${col((m) => m.name)}::text[], ${col((m) => JSON.stringify(m.data))}::text[], ${col((m) => m.subject)}::text[],
                    ${col((m) => m.text)}::text[], ${col((m) => m.html)}::text[], ${ids.map(messageIdFor)}::text[])
             AS u(id, resignation_id, purpose, recipient, recipient_name, data, subject, text, html, message_id)
      ON CONFLICT DO NOTHING`.execute(trx);
    queued = Number(inserted.numAffectedRows ?? 0);
  }

  const outcome: ExitNoticesSentData = { batchId: c.batchId, chunk: c.chunk, sent, failed };
  await ctx.bus?.publish(trx, [exitNoticesSentEvent(outcome, options.trace, now)]);
  await sql`
    UPDATE ${table('exit_notices')} SET outcome = ${JSON.stringify(outcome)}::jsonb, started = NULL, suspended = NULL, updated_at = ${now}
     WHERE batch_id = ${c.batchId} AND chunk = ${c.chunk}`.execute(trx);
  return { outcome, repeated: false, queued };
}

export function logTold(ctx: Pick<NotificationContext, 'log'>, result: TellExitResult): void {
  const { outcome } = result;
  if (result.repeated) ctx.log.debug({ batchId: outcome.batchId, chunk: outcome.chunk }, 'exit chunk already told');
  else ctx.log.info({ batchId: outcome.batchId, chunk: outcome.chunk, told: outcome.sent.length, notTold: outcome.failed.length, queued: result.queued }, 'exit notices queued');
}

/**
 * The chunk's outcome event, about the batch (subject), on the batch's correlation id unless the caller
 * gave one. Its id follows from (batch, chunk): published once per chunk, and a duplicate is one.
 */
export function exitNoticesSentEvent(outcome: ExitNoticesSentData, trace: TraceContext, at: Date) {
  return createEvent({
    id: nameUuid(`notification.exit-notices-sent:${outcome.batchId}:${outcome.chunk}`),
    type: EventTypes.exitNoticesSent,
    source: EventSources.notification,
    subject: outcome.batchId,
    correlationId: trace.correlationId ?? outcome.batchId,
    traceparent: trace.traceparent,
    time: at,
    data: outcome,
  });
}
