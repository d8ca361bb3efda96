import { conflict, notFound, type Clock, type HttpProblem, type Logger } from '@ems/platform';
import type { access } from '@ems/contracts';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type EventBus, type TraceContext } from '@ems/eventbus';
import { sql, type Selectable } from 'kysely';
import { ACCESS_SCHEMA, type AccessDb, type AccessTx, type RevocationsTable } from '../db/access.db.ts';
import { requester, TIMER_ACTOR, type AuditBy } from '../audit/actor.ts';
import { recordAuditEntries } from '../audit/record-audit.ts';
import { enqueueRevokeTasksOfMany } from '../connectors/enqueue-connector-tasks.ts';
import { decideReschedule, isDue, planRevocation } from '../domain/revocation.ts';
import { toRevocationView } from '../read-revocations/revocation.view.ts';

export interface RevokeAccessDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  /** When present, scheduling publishes `accessRevocationScheduled` and revoking `accessRevoked`, each in its own transaction. */
  bus?: EventBus | undefined;
  /** Called after a commit that may have written connector tasks: the worker looks at once. */
  wakeConnectors?: (() => void) | undefined;
}

export type RevocationRow = Selectable<RevocationsTable>;

/** What a request did: `created` a timer, `moved` it (a newer revision), `revoked` now, or `none` (a repeat). */
export type RevocationChange = 'created' | 'moved' | 'revoked' | 'none';

export interface RevocationResult {
  revocation: access.Revocation;
  /** true when this request created the revocation (201), false when one existed (200). */
  created: boolean;
  change: RevocationChange;
}

export type RevocationOutcome = RevocationResult | { refused: HttpProblem };

export interface RevocationOptions {
  idempotencyKey?: string | undefined;
  trace: TraceContext;
  /**
   * Revoke at once, in this transaction, when the instant has come (the API). Otherwise a due
   * revocation is only scheduled and the timer fires it within one poll (the event subscriber).
   */
  revokeWhenDue: boolean;
  /** Who asks: audited on what this request revokes, and remembered on the revocation for the timer. */
  by: AuditBy;
}

/**
 * Revokes every remaining grant of a leaver, now or at `revokeAt` (a durable timer, see revocation-timer.ts).
 *
 * One revocation per resignation: a repeat answers it and changes nothing; a higher `revision` moves
 * a still scheduled one (without `revokeAt`, "now": revoked at once, its scheduled instant kept); an
 * older one changes nothing; once done it is final.
 * Any request finding its scheduled revocation due (the timer not there yet) executes it at once.
 */
export async function requestRevocation(deps: RevokeAccessDeps, request: access.RevocationRequest, by: AuditBy, idempotencyKey?: string, trace: TraceContext = {}): Promise<RevocationResult> {
  const outcome = await deps.db.transaction().execute((trx) => requestRevocationInTransaction(trx, deps, request, { idempotencyKey, trace, revokeWhenDue: true, by }));
  if ('refused' in outcome) throw outcome.refused;
  logChange(deps.log, outcome);
  if (outcome.change === 'revoked') deps.wakeConnectors?.();
  return outcome;
}

export function logChange(log: Logger, result: RevocationResult): void {
  if (result.change === 'none') return;
  const r = result.revocation;
  log.info({ revocationId: r.id, resignationId: r.resignationId, employeeId: r.employeeId, revokeAt: r.revokeAt, revision: r.revision, revoked: r.revoked.length }, `access revocation ${result.change}`);
}

/**
 * The use case's core, inside the caller's transaction. A refusal (unknown employee, resignation or
 * Idempotency-Key already used for someone else) is returned, decided before anything is written, so
 * the caller may go on using the transaction (e.g. to publish a failure event).
 *
 * Locks, in the order the timer takes them too: the revocation's row, then the employee's identity.
 */
export async function requestRevocationInTransaction(
  trx: AccessTx,
  deps: Pick<RevokeAccessDeps, 'clock' | 'bus'>,
  request: access.RevocationRequest,
  options: RevocationOptions,
): Promise<RevocationOutcome> {
  const { idempotencyKey, trace, by } = options;
  const requestedBy = JSON.stringify(requester(by));
  const now = deps.clock.now();
  const revokeAt = request.revokeAt === undefined ? now : new Date(request.revokeAt);
  // "Now" (no instant) for a revocation already scheduled, by a request that revokes what is due: carried
  // out at once, keeping the instant it was scheduled for (revokeAt) beside when it was done (doneAt).
  const keepSchedule = request.revokeAt === undefined && options.revokeWhenDue;

  if (idempotencyKey !== undefined) {
    const used = await revocationOfKey(trx, idempotencyKey);
    if (used && used.resignation_id !== request.resignationId) {
      return { refused: conflict(`Idempotency-Key ${idempotencyKey} was already used for resignation ${used.resignation_id}`, { revocationId: used.id }) };
    }
  }
  // Identities are never deleted: an unlocked look is enough to refuse early.
  const identity = await trx.selectFrom('identities').select('employee_id').where('employee_id', '=', request.employeeId).executeTakeFirst();
  if (!identity) return { refused: notFound(`Employee ${request.employeeId} has no identity in the access directory`) };

  const inserted = await trx
    .insertInto('revocations')
    .values({
      id: crypto.randomUUID(),
      resignation_id: request.resignationId,
      employee_id: request.employeeId,
      revoke_at: revokeAt,
      revision: request.revision,
      reason: request.reason ?? null,
      correlation_id: trace.correlationId ?? request.resignationId,
      traceparent: trace.traceparent ?? null,
      requested_by: requestedBy,
      created_at: now,
      updated_at: now,
    })
    // A concurrent request for this resignation committed first: continue with its row.
    .onConflict((oc) => oc.column('resignation_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  let row = inserted ?? (await trx.selectFrom('revocations').selectAll().where('resignation_id', '=', request.resignationId).forUpdate().executeTakeFirstOrThrow());
  if (row.employee_id !== request.employeeId) {
    return { refused: conflict(`Resignation ${request.resignationId} already has an access revocation for employee ${row.employee_id}`, { revocationId: row.id }) };
  }

  let change: RevocationChange = 'none';
  if (inserted) {
    change = 'created';
  } else {
    const decision = decideReschedule({ status: row.status, revokeAt: row.revoke_at, revision: row.revision }, { revokeAt, revision: request.revision });
    if (decision.change === 'revise') {
      row = await trx
        .updateTable('revocations')
        .set({
          revoke_at: keepSchedule ? row.revoke_at : decision.revokeAt,
          revision: decision.revision,
          reason: request.reason ?? row.reason,
          // The latest decision's trace carries on into the revocation's events.
          correlation_id: trace.correlationId ?? row.correlation_id,
          traceparent: trace.traceparent ?? row.traceparent,
          // …and so does who asked for it: the timer acts on their behalf.
          requested_by: requestedBy,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      change = 'moved';
    }
  }
  // A scheduled revocation already due is executed by whoever gets to it first: this request or the timer.
  const dueNow = options.revokeWhenDue && row.status === 'scheduled' && (isDue(row.revoke_at, now) || (keepSchedule && change === 'moved'));
  if (change !== 'none' || dueNow) {
    if (dueNow) {
      row = await executeRevocation(trx, deps, row, by);
      change = 'revoked';
    } else {
      await deps.bus?.publish(trx, [
        createEvent({
          type: EventTypes.accessRevocationScheduled,
          source: EventSources.access,
          subject: row.resignation_id,
          correlationId: row.correlation_id,
          traceparent: row.traceparent ?? undefined,
          time: now,
          data: { resignationId: row.resignation_id, employeeId: row.employee_id, revokeAt: row.revoke_at.toISOString(), revision: row.revision },
        }),
      ]);
    }
  }

  if (idempotencyKey !== undefined) {
    const recorded = await trx.insertInto('revocation_keys').values({ idempotency_key: idempotencyKey, revocation_id: row.id }).onConflict((oc) => oc.doNothing()).returning('revocation_id').executeTakeFirst();
    if (!recorded) {
      // The same key was recorded meanwhile by a concurrent request: only a repeat may share it.
      const used = await revocationOfKey(trx, idempotencyKey);
      if (used && used.id !== row.id) throw conflict(`Idempotency-Key ${idempotencyKey} was already used for resignation ${used.resignation_id}`, { revocationId: used.id });
    }
  }
  return { revocation: await toRevocationView(trx, row), created: inserted !== undefined, change };
}

async function revocationOfKey(trx: AccessTx, key: string): Promise<{ id: string; resignation_id: string } | undefined> {
  return trx
    .selectFrom('revocation_keys')
    .innerJoin('revocations', 'revocations.id', 'revocation_keys.revocation_id')
    .select(['revocations.id', 'revocations.resignation_id'])
    .where('revocation_keys.idempotency_key', '=', key)
    .executeTakeFirst();
}

/**
 * Executes a scheduled revocation whose row (and then the employee's identity) the caller has locked:
 * every grant of the employee not yet revoked is revoked and audited (naming the hold that had
 * suspended it), the employee's active holds are closed (they hold nothing any more), the revocation
 * is done and `accessRevoked` is published — one transaction, so all of it happens or none.
 * The audit entries name `by`: the request that found it due, or the timer (timerBy).
 */
export async function executeRevocation(
  trx: AccessTx,
  deps: Pick<RevokeAccessDeps, 'clock' | 'bus'>,
  row: RevocationRow,
  by: AuditBy,
): Promise<RevocationRow> {
  const [done] = await executeRevocations(trx, deps, [{ row, by }]);
  return done!;
}

/**
 * executeRevocation for many revocations whose rows the caller has locked (the timer's round: 10,000
 * revocations due at one instant), set-based — the same effects per revocation, a handful of statements
 * for all of them: the identities locked in employee order, every grant of these people read and revoked
 * in one statement each, one audit INSERT (each row naming its revocation's `by`), one INSERT of
 * revocation_grants and of connector tasks, the holds released and the revocations done in one statement
 * each, one accessRevoked per revocation published together. Two revocations of one person (two cases):
 * the first in `due` order revokes the grants, the second finds none left — as one after the other.
 */
export async function executeRevocations(
  trx: AccessTx,
  deps: Pick<RevokeAccessDeps, 'clock' | 'bus'>,
  due: ReadonlyArray<{ row: RevocationRow; by: AuditBy }>,
): Promise<RevocationRow[]> {
  if (due.length === 0) return [];
  const now = deps.clock.now();
  const employees = [...new Set(due.map((d) => d.row.employee_id))].sort();
  // Every person's identity lock in one statement and one order (as an exit chunk takes them): no deadlock.
  await trx.selectFrom('identities').select('employee_id').where('employee_id', 'in', employees).orderBy('employee_id').forNoKeyUpdate().execute();
  const grants = await trx
    .selectFrom('grants')
    .select(['id', 'employee_id', 'system_id', 'status', 'suspended_by_hold'])
    .where('employee_id', 'in', employees)
    .orderBy('id')
    .forUpdate()
    .execute();
  const grantsOf = new Map<string, typeof grants>();
  for (const g of grants) grantsOf.set(g.employee_id, [...(grantsOf.get(g.employee_id) ?? []), g]);
  const heldBy = new Map(grants.map((g) => [g.id, g.suspended_by_hold]));
  const revoked = new Set<string>();
  const planned = due.map(({ row, by }) => {
    // A person's second revocation in this round finds what the first revoked already revoked.
    const changes = planRevocation((grantsOf.get(row.employee_id) ?? []).map((g) => ({ id: g.id, systemId: g.system_id, status: revoked.has(g.id) ? ('revoked' as const) : g.status, suspendedByHold: g.suspended_by_hold })));
    for (const c of changes) revoked.add(c.grantId);
    return { row, by, changes, reason: row.reason ?? `Access revoked: exit of resignation ${row.resignation_id}` };
  });

  if (revoked.size > 0) {
    await sql`UPDATE ${sql.table(`${ACCESS_SCHEMA}.grants`)} SET status = 'revoked', suspended_by_hold = NULL, updated_at = ${now} WHERE id = ANY(${[...revoked]}::text[])`.execute(trx);
    await recordAuditEntries(
      trx,
      planned.flatMap(({ row, by, changes, reason }) =>
        changes.map((c) => ({
          change: { at: now, employeeId: row.employee_id, grantId: c.grantId, systemId: c.systemId, from: c.from, to: c.to, reason, holdId: heldBy.get(c.grantId) ?? null },
          by,
        })),
      ),
    );
    const rg = planned.flatMap(({ row, changes }) => changes.map((c) => ({ revocation: row.id, grant: c.grantId, system: c.systemId })));
    await sql`
      INSERT INTO ${sql.table(`${ACCESS_SCHEMA}.revocation_grants`)} (revocation_id, grant_id, system_id)
      SELECT * FROM unnest(${rg.map((x) => x.revocation)}::uuid[], ${rg.map((x) => x.grant)}::text[], ${rg.map((x) => x.system)}::text[])`.execute(trx);
  }
  // Each connected system's part, in this transaction: the tasks exist iff the revocation is done.
  await enqueueRevokeTasksOfMany(
    trx,
    planned.map(({ row, by, changes }) => ({
      origin: {
        revocationId: row.id,
        resignationId: row.resignation_id,
        employeeId: row.employee_id,
        trace: { correlationId: row.correlation_id, traceparent: row.traceparent ?? undefined },
        requestedBy: requester(by),
        at: now,
      },
      revokedGrantIds: changes.map((c) => c.grantId),
    })),
  );
  // Each person's active holds released, naming the (first) revocation that took their access.
  const firstOf = new Map<string, string>();
  for (const { row } of due) if (!firstOf.has(row.employee_id)) firstOf.set(row.employee_id, row.resignation_id);
  await sql`
    UPDATE ${sql.table(`${ACCESS_SCHEMA}.holds`)} h
       SET status = 'released', released_at = ${now}, release_reason = 'access revoked (resignation ' || u.resignation_id || ')'
      FROM unnest(${[...firstOf.keys()]}::text[], ${[...firstOf.values()]}::text[]) AS u(employee_id, resignation_id)
     WHERE h.employee_id = u.employee_id AND h.status = 'active'`.execute(trx);
  const done = await trx
    .updateTable('revocations')
    .set({ status: 'done', done_at: now, updated_at: now })
    .where('id', 'in', due.map((d) => d.row.id))
    .returningAll()
    .execute();
  const doneById = new Map(done.map((r) => [r.id, r]));

  await deps.bus?.publish(
    trx,
    planned.map(({ row, changes }) =>
      createEvent({
        type: EventTypes.accessRevoked,
        source: EventSources.access,
        subject: row.resignation_id,
        correlationId: row.correlation_id,
        traceparent: row.traceparent ?? undefined,
        time: now,
        data: {
          resignationId: row.resignation_id,
          employeeId: row.employee_id,
          revokedAt: now.toISOString(),
          revoked: changes.map((c) => ({ grantId: c.grantId, system: c.systemId })),
        },
      }),
    ),
  );
  return due.map(({ row }) => doneById.get(row.id)!);
}

/** The timer fires a revocation on behalf of whoever last requested it. */
export function timerBy(row: Pick<RevocationRow, 'requested_by'>): AuditBy {
  return { actor: TIMER_ACTOR, onBehalfOf: row.requested_by };
}
