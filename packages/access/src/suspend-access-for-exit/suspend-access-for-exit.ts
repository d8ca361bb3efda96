import { sql } from 'kysely';
import type { Clock, Logger } from '@ems/platform';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import type { access } from '@ems/contracts';
import { createEvent, nameUuid, type EventBus, type TraceContext } from '@ems/eventbus';
import { ACCESS_SCHEMA, type AccessDb, type AccessTx } from '../db/access.db.ts';
import { requester, type AuditBy } from '../audit/actor.ts';
import { recordAuditEntries } from '../audit/record-audit.ts';

/**
 * Involuntary and mass exits, Access's part: suspend EVERY active grant of each person of one chunk
 * (≤ 500 people), and schedule each person's revocation at their instant.
 *
 *   BEGIN
 *     claim (batch, chunk) ──already there──▶ answer the recorded outcome; nothing else   (idempotent)
 *     lock the people's identities (one statement, in employee order)
 *     holds: one new hold (scope 'all') per person — or the person's active hold widened to every grant
 *     one statement: grants → suspended, hold_grants, a suspend task per connected system and person
 *     one statement: a revocation per person at its revokeAt (the revocation timer fires it)
 *     the audit rows, chained in JS, one INSERT
 *     publish exitAccessSuspended; record it as the chunk's outcome
 *   COMMIT
 *
 * A handful of set-based statements whatever the chunk's size, not a transaction per person: at 500
 * people the statements, not the round trips, are the cost. Per person, nothing is half done: the
 * person is in `suspended` (hold, grants, revocation, audit, tasks all written) or in `failed` (none).
 */

/** One chunk: the involuntaryExitsStarted payload, which is also the command's body. */
export type ExitChunk = access.SuspendAccessForExitRequest;
/** The chunk's outcome: the exitAccessSuspended payload, which is also the command's answer. */
export type ExitAccessSuspendedData = EventData<typeof EventTypes.exitAccessSuspended>;

export interface SuspendAccessForExitDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  /** When present, the chunk's outcome is published as `exitAccessSuspended` in its transaction (both modes). */
  bus?: EventBus | undefined;
  /** Called after a commit that wrote connector tasks: the worker looks at once. */
  wakeConnectors?: (() => void) | undefined;
}

export interface SuspendAccessForExitResult {
  outcome: ExitAccessSuspendedData;
  /** true when an earlier request or event already suspended this chunk: its outcome, nothing changed. */
  repeated: boolean;
  /** Connector tasks written (0 on a repeat). */
  tasks: number;
}

/** Whom each person's changes are audited as made by (the caller, for that person's row). */
export type AuditByFor = (employeeId: string) => AuditBy;

/** Suspends one chunk in its own transaction; see the module comment. */
export async function suspendAccessForExit(deps: SuspendAccessForExitDeps, chunk: ExitChunk, byFor: AuditByFor, trace: TraceContext = {}): Promise<SuspendAccessForExitResult> {
  const result = await deps.db.transaction().execute((trx) => suspendAccessForExitInTransaction(trx, deps, chunk, byFor, trace));
  afterCommit(deps, result);
  return result;
}

/** What the adapters do once the chunk's transaction committed: log it, and wake the connector worker. */
export function afterCommit(deps: Pick<SuspendAccessForExitDeps, 'log' | 'wakeConnectors'>, result: SuspendAccessForExitResult): void {
  const { outcome } = result;
  if (result.repeated) {
    deps.log.debug({ batchId: outcome.batchId, chunk: outcome.chunk }, 'exit chunk already suspended');
    return;
  }
  if (result.tasks > 0) deps.wakeConnectors?.();
  deps.log.info(
    { batchId: outcome.batchId, chunk: outcome.chunk, suspended: outcome.suspended.length, failed: outcome.failed.length, grants: outcome.suspended.reduce((n, s) => n + s.grants, 0) },
    'exit chunk: access suspended',
  );
}

interface Planned {
  resignationId: string;
  employeeId: string;
  holdId: string;
  /** A new hold (inserted) or the person's active hold, widened. */
  isNew: boolean;
  revocationId: string;
  /** The person's instant; a revocation the case had already keeps its own. */
  revokeAt: string;
  /** Whether the revocation is scheduled here (the case had none). */
  newRevocation: boolean;
  by: AuditBy;
}

const table = (name: string) => sql.table(`${ACCESS_SCHEMA}.${name}`);

/**
 * The core, inside the caller's transaction (an HTTP request's own, or an event handler's that also
 * records the event as processed). Nothing is refused as a whole: a person who cannot be suspended
 * (unknown here, named twice, a case that is someone else's) is listed in `failed` with the reason.
 */
export async function suspendAccessForExitInTransaction(
  trx: AccessTx,
  deps: Pick<SuspendAccessForExitDeps, 'clock' | 'bus'>,
  chunk: ExitChunk,
  byFor: AuditByFor,
  trace: TraceContext,
): Promise<SuspendAccessForExitResult> {
  const now = deps.clock.now();

  // 1. The chunk's idempotency record, claimed first: a concurrent repeat blocks here until we commit.
  const claimed = await trx
    .insertInto('exit_suspensions')
    .values({ batch_id: chunk.batchId, chunk: chunk.chunk, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .returning('batch_id')
    .executeTakeFirst();
  if (!claimed) {
    const earlier = await trx.selectFrom('exit_suspensions').select('outcome').where('batch_id', '=', chunk.batchId).where('chunk', '=', chunk.chunk).executeTakeFirstOrThrow();
    return { outcome: earlier.outcome as ExitAccessSuspendedData, repeated: true, tasks: 0 };
  }

  const employeeIds = [...new Set(chunk.exits.map((e) => e.employeeId))];
  const resignationIds = chunk.exits.map((e) => e.resignationId);


  // 2. Every person's identity lock, in one statement and one order (employee id), so two chunks naming
  //    the same people never deadlock; a single-person change (a hold, a release) waits for the chunk.
  const identities = await trx
    .selectFrom('identities')
    .select('employee_id')
    .where('employee_id', 'in', employeeIds.length > 0 ? employeeIds : [''])
    .orderBy('employee_id')
    .forNoKeyUpdate()
    .execute();
  const known = new Set(identities.map((i) => i.employee_id));


  // 3. What exists already: the people's active holds and anything recorded for these cases.
  const holds = await trx
    .selectFrom('holds')
    .select(['id', 'employee_id', 'resignation_id', 'status'])
    .where((eb) => eb.or([eb.and([eb('employee_id', 'in', employeeIds.length > 0 ? employeeIds : ['']), eb('status', '=', 'active')]), eb('resignation_id', 'in', resignationIds.length > 0 ? resignationIds : [crypto.randomUUID()])]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  const revocations = await trx
    .selectFrom('revocations')
    .select(['id', 'resignation_id', 'employee_id', 'revoke_at'])
    .where('resignation_id', 'in', resignationIds.length > 0 ? resignationIds : [crypto.randomUUID()])
    .execute();
  const holdOfCase = new Map(holds.map((h) => [h.resignation_id, h]));
  const revocationOfCase = new Map(revocations.map((r) => [r.resignation_id, r]));
  // The latest active hold of each person (rows come newest first).
  const activeHoldOf = new Map<string, string>();
  for (const h of holds) if (h.status === 'active' && !activeHoldOf.has(h.employee_id)) activeHoldOf.set(h.employee_id, h.id);

  const planned: Planned[] = [];
  const failed: ExitAccessSuspendedData['failed'] = [];
  const seenPeople = new Set<string>();
  const seenCases = new Set<string>();
  for (const exit of chunk.exits) {
    const fail = (reason: string) => failed.push({ resignationId: exit.resignationId, employeeId: exit.employeeId, reason });
    if (seenPeople.has(exit.employeeId) || seenCases.has(exit.resignationId)) {
      fail('named more than once in the chunk');
      continue;
    }
    seenPeople.add(exit.employeeId);
    seenCases.add(exit.resignationId);
    if (!known.has(exit.employeeId)) {
      fail(`Employee ${exit.employeeId} has no identity in the access directory`);
      continue;
    }
    const caseHold = holdOfCase.get(exit.resignationId);
    if (caseHold && caseHold.employee_id !== exit.employeeId) {
      fail(`Resignation ${exit.resignationId} already has an access hold for employee ${caseHold.employee_id}`);
      continue;
    }
    const caseRevocation = revocationOfCase.get(exit.resignationId);
    if (caseRevocation && caseRevocation.employee_id !== exit.employeeId) {
      fail(`Resignation ${exit.resignationId} already has an access revocation for employee ${caseRevocation.employee_id}`);
      continue;
    }
    // The case's own hold (asked for before, e.g. by POST /api/access-holds) if still active, else the
    // person's active hold (a resignation in flight): widened to every grant, never a second hold.
    const existing = caseHold?.status === 'active' ? caseHold.id : activeHoldOf.get(exit.employeeId);
    if (caseHold && caseHold.status !== 'active' && existing === undefined) {
      fail(`Resignation ${exit.resignationId} already had an access hold, released since`);
      continue;
    }
    planned.push({
      resignationId: exit.resignationId,
      employeeId: exit.employeeId,
      holdId: existing ?? crypto.randomUUID(),
      isNew: existing === undefined,
      revocationId: caseRevocation?.id ?? crypto.randomUUID(),
      revokeAt: caseRevocation ? caseRevocation.revoke_at.toISOString() : new Date(exit.revokeAt).toISOString(),
      newRevocation: caseRevocation === undefined,
      by: byFor(exit.employeeId),
    });
  }

  const reason = `Involuntary exit (${chunk.reason}): every grant suspended`;
  let tasks = 0;
  const grantsOf = new Map<string, number>();
  if (planned.length > 0) {
    // 4. The holds: new ones inserted, existing ones widened to every grant.
    const fresh = planned.filter((p) => p.isNew);
    if (fresh.length > 0) {
      await sql`
        INSERT INTO ${table('holds')} (id, resignation_id, employee_id, reason, created_at, scope)
        SELECT u.id, u.resignation_id, u.employee_id, ${reason}, ${now}, 'all'
          FROM unnest(${fresh.map((p) => p.holdId)}::uuid[], ${fresh.map((p) => p.resignationId)}::uuid[], ${fresh.map((p) => p.employeeId)}::text[])
               AS u(id, resignation_id, employee_id)`.execute(trx);
    }
    const widened = planned.filter((p) => !p.isNew).map((p) => p.holdId);
    if (widened.length > 0) await trx.updateTable('holds').set({ scope: 'all' }).where('id', 'in', widened).execute();


    // 5. One statement: every active grant of each person → suspended by the person's hold; the hold
    //    remembers each (prior status active); each connected system where a person lost grants gets one
    //    suspend task with every role suspended there (critical or not: an exit takes everything).
    const { rows: suspended } = await sql<{ id: string; employee_id: string; system_id: string; hold_id: string; tasks: string }>`
      WITH target AS (
        SELECT * FROM unnest(${planned.map((p) => p.employeeId)}::text[], ${planned.map((p) => p.holdId)}::uuid[],
                             ${planned.map((p) => p.resignationId)}::uuid[], ${planned.map((p) => JSON.stringify(requester(p.by)))}::text[])
               AS t(employee_id, hold_id, resignation_id, requested_by)
      ), suspended AS (
        UPDATE ${table('grants')} AS g
           SET status = 'suspended', suspended_by_hold = t.hold_id, updated_at = ${now}
          FROM target t
         WHERE g.employee_id = t.employee_id AND g.status = 'active'
        RETURNING g.id, g.employee_id, g.system_id, g.role, t.hold_id, t.resignation_id, t.requested_by
      ), held AS (
        INSERT INTO ${table('hold_grants')} (hold_id, grant_id, prior_status)
        SELECT hold_id, id, 'active' FROM suspended
        -- A grant this hold suspended once, re-activated since by someone else: suspended again, from active.
        ON CONFLICT (hold_id, grant_id) DO UPDATE SET prior_status = 'active'
      ), tasks AS (
        INSERT INTO ${table('connector_tasks')}
          (id, hold_id, resignation_id, employee_id, system_id, connector, action, entitlements, next_attempt_at,
           correlation_id, traceparent, requested_by, created_at, updated_at)
        SELECT gen_random_uuid(), s.hold_id, s.resignation_id, s.employee_id, s.system_id, sys.connector, 'suspend',
               array_agg(DISTINCT s.role ORDER BY s.role), ${now}, s.resignation_id::text, ${trace.traceparent ?? null},
               s.requested_by::jsonb, ${now}, ${now}
          FROM suspended s JOIN ${table('systems')} sys ON sys.id = s.system_id
         WHERE sys.connector <> 'builtin'
         GROUP BY s.hold_id, s.resignation_id, s.employee_id, s.system_id, sys.connector, s.requested_by
         ORDER BY s.employee_id, s.system_id
        RETURNING 1
      )
      SELECT s.id, s.employee_id, s.system_id, s.hold_id, (SELECT count(*) FROM tasks) AS tasks
        FROM suspended s
       ORDER BY s.employee_id, s.id`.execute(trx);
    tasks = Number(suspended[0]?.tasks ?? 0);
    for (const g of suspended) grantsOf.set(g.employee_id, (grantsOf.get(g.employee_id) ?? 0) + 1);


    // 6. Each person's revocation at their instant, on the revocation timer (revoke-access/revocation-timer.ts).
    //    A case that has one already keeps it (asked for before by its own path).
    const revoking = planned.filter((p) => p.newRevocation);
    if (revoking.length > 0) {
      await sql`
        INSERT INTO ${table('revocations')}
          (id, resignation_id, employee_id, revoke_at, revision, reason, correlation_id, traceparent, requested_by, created_at, updated_at)
        SELECT u.id, u.resignation_id, u.employee_id, u.revoke_at, 1, ${`Involuntary exit (${chunk.reason})`},
               u.resignation_id::text, ${trace.traceparent ?? null}, u.requested_by::jsonb, ${now}, ${now}
          FROM unnest(${revoking.map((p) => p.revocationId)}::uuid[], ${revoking.map((p) => p.resignationId)}::uuid[], ${revoking.map((p) => p.employeeId)}::text[],
                      ${revoking.map((p) => p.revokeAt)}::timestamptz[], ${revoking.map((p) => JSON.stringify(requester(p.by)))}::text[])
               AS u(id, resignation_id, employee_id, revoke_at, requested_by)`.execute(trx);
    }


    // 7. The audit, in the same transaction (the sealer links it into the chain after commit; no lock here).
    const byOf = new Map(planned.map((p) => [p.employeeId, p.by]));
    await recordAuditEntries(
      trx,
      suspended.map((g) => ({
        change: { at: now, employeeId: g.employee_id, grantId: g.id, systemId: g.system_id, from: 'active' as const, to: 'suspended' as const, reason, holdId: g.hold_id },
        by: byOf.get(g.employee_id)!,
      })),
    );
  }

  const outcome: ExitAccessSuspendedData = {
    batchId: chunk.batchId,
    chunk: chunk.chunk,
    suspended: planned.map((p) => ({
      resignationId: p.resignationId,
      employeeId: p.employeeId,
      holdId: p.holdId,
      grants: grantsOf.get(p.employeeId) ?? 0,
      revocationId: p.revocationId,
      revokeAt: p.revokeAt,
    })),
    failed,
  };
  // 8. The outcome, published and recorded in this transaction: it exists iff the suspension does.
  await deps.bus?.publish(trx, [exitAccessSuspendedEvent(outcome, trace, now)]);
  await trx.updateTable('exit_suspensions').set({ outcome: JSON.stringify(outcome) }).where('batch_id', '=', chunk.batchId).where('chunk', '=', chunk.chunk).execute();
  return { outcome, repeated: false, tasks };
}

/**
 * The chunk's outcome event, about the batch (subject), on the batch's correlation id unless the caller
 * gave one. Its id follows from (batch, chunk): published once per chunk, and a duplicate is one.
 */
export function exitAccessSuspendedEvent(outcome: ExitAccessSuspendedData, trace: TraceContext, at: Date) {
  return createEvent({
    id: nameUuid(`access.exit-access-suspended:${outcome.batchId}:${outcome.chunk}`),
    type: EventTypes.exitAccessSuspended,
    source: EventSources.access,
    subject: outcome.batchId,
    correlationId: trace.correlationId ?? outcome.batchId,
    traceparent: trace.traceparent,
    time: at,
    data: outcome,
  });
}
