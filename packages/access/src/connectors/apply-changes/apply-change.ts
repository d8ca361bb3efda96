import { sql, type Selectable } from 'kysely';
import { backoffDelay, type Clock, type Logger } from '@ems/platform';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type EventBus } from '@ems/eventbus';
import type { AccessDb, ConnectorTasksTable } from '../../db/access.db.ts';
import { CONNECTOR_ACTOR } from '../../audit/actor.ts';
import { recordSystemAudit } from '../../audit/record-audit.ts';
import { ConnectorError, type Connector } from '../connector.ts';

/**
 * One connector task, start to end — outside any database transaction while the system is asked:
 *
 *   claimed (lease, attempts+1) ──apply(change, signal)──▶ verified   ──▶ done   + audit + systemAccessChanged
 *                                                       └─▶ refused   ──▶ failed + audit + systemAccessChangeFailed (willRetry=false)
 *                                                       └─▶ transient ──▶ pending at now+backoff (systemAccessChangeFailed willRetry=true
 *                                                                          on the first failure) … until attempts run out → failed
 *
 * The outcome is recorded in one short transaction that holds only while this claim's lease does
 * (lease_token): a process that lost its lease (it stalled past it, another took the task over)
 * records nothing and publishes nothing, so each outcome is recorded and published once.
 */

export type TaskRow = Selectable<ConnectorTasksTable>;

export interface ApplyChangeDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  bus?: EventBus | undefined;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** Delay after the first failure; doubles each attempt, up to maxMs (platform's backoffDelay, no jitter). */
  baseMs: number;
  maxMs: number;
  /** Longest wait for the system's answer (the call is aborted then, and counts as a transient failure). */
  timeoutMs: number;
}

export type ChangeOutcome = 'done' | 'retry' | 'failed' | 'lease lost';

interface Failure {
  message: string;
  code: string | null;
  transient: boolean;
}

/** Control characters out, length capped, well-formed: an error message as the audit and the events may carry it. */
export function storableMessage(text: string, max = 2000): string {
   
  const clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ').trim();
  // Cut, then mended: a cut through a surrogate pair leaves half of it, which no event may carry.
  return (clean || 'unknown error').slice(0, max).toWellFormed();
}

function classify(err: unknown, signal: AbortSignal, timeoutMs: number): Failure {
  if (err instanceof ConnectorError) return { message: storableMessage(err.message), code: err.code ?? null, transient: err.transient };
  if (signal.aborted) return { message: `no answer within ${timeoutMs} ms`, code: 'timeout', transient: true };
  // Anything else (a connector's own bug, the network) is retried: the system may well be fine next time.
  return { message: storableMessage(err instanceof Error ? err.message : String(err)), code: null, transient: true };
}

/** Calls the connector for a claimed task, then records what came of it (see above). */
export async function applyChange(deps: ApplyChangeDeps, connector: Connector | undefined, task: TaskRow, policy: RetryPolicy): Promise<ChangeOutcome> {
  const { db, log } = deps;
  const identity = await db.selectFrom('identities').select('email').where('employee_id', '=', task.employee_id).executeTakeFirst();
  const signal = AbortSignal.timeout(policy.timeoutMs);
  const context = { changeId: task.id, systemId: task.system_id, action: task.action, employeeId: task.employee_id, attempt: task.attempts };
  try {
    if (!connector) throw new ConnectorError(`no connector for system ${task.system_id} is configured in this process`, { transient: true, code: 'unconfigured' });
    const call = connector.apply({ changeId: task.id, action: task.action, account: { employeeId: task.employee_id, email: identity?.email ?? null }, entitlements: task.entitlements }, signal);
    // A connector that ignores the signal is not waited for beyond the deadline either.
    const outcome = await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason as Error);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
    ]);
    const verification = storableMessage(outcome.verification, 1000);
    const recorded = await recordDone(deps, task, verification);
    if (recorded) log.info({ ...context, verification }, 'connected system changed and verified');
    else log.warn(context, 'connected system changed, but this claim had lost its lease: the outcome is left to the process that took it over');
    return recorded ? 'done' : 'lease lost';
  } catch (err) {
    const failure = classify(err, signal, policy.timeoutMs);
    const outcome = await recordFailure(deps, task, failure, policy);
    const logged = { ...context, error: failure.message, code: failure.code, transient: failure.transient };
    if (outcome === 'retry') log.warn(logged, 'connected system change failed; retrying');
    else if (outcome === 'failed') log.error(logged, 'connected system change failed; giving up');
    else log.warn(logged, 'connected system change failed, but this claim had lost its lease');
    return outcome;
  }
}

const auditBy = (task: TaskRow) => ({ actor: CONNECTOR_ACTOR, onBehalfOf: task.requested_by });

const subjectOf = (task: TaskRow) => task.resignation_id ?? task.employee_id;

/** What an event may carry of a change's entitlements (its schema: at most 1000, each at most 500 characters). */
const MAX_EVENT_ENTITLEMENTS = 1000;
const MAX_EVENT_ENTITLEMENT = 500;

/**
 * A change as its event tells it: entitlements beyond what the event may carry are shortened (a name
 * with an ellipsis, the list cut) — otherwise the event would be refused, the outcome never recorded,
 * and the change applied again at every lease. The audit keeps them whole.
 */
function told(task: TaskRow, attempts: number) {
  const entitlements = task.entitlements
    .slice(0, MAX_EVENT_ENTITLEMENTS)
    .map((e) => (e.length <= MAX_EVENT_ENTITLEMENT ? e : `${e.slice(0, MAX_EVENT_ENTITLEMENT - 1).toWellFormed()}…`));
  return { ...change(task, attempts), entitlements };
}

function change(task: TaskRow, attempts: number) {
  return {
    changeId: task.id,
    resignationId: task.resignation_id,
    employeeId: task.employee_id,
    systemId: task.system_id,
    connector: task.connector,
    action: task.action,
    entitlements: task.entitlements,
    attempts,
  };
}

async function recordDone(deps: ApplyChangeDeps, task: TaskRow, verification: string): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const row = await trx
      .updateTable('connector_tasks')
      .set({ status: 'done', verification, done_at: now, updated_at: now, leased_until: null, lease_token: null })
      .where('id', '=', task.id)
      .where('status', '=', 'pending')
      .where('lease_token', '=', task.lease_token)
      .returningAll()
      .executeTakeFirst();
    if (!row) return false;
    await deps.bus?.publish(trx, [
      createEvent({
        type: EventTypes.systemAccessChanged,
        source: EventSources.access,
        subject: subjectOf(row),
        correlationId: row.correlation_id,
        traceparent: row.traceparent ?? undefined,
        time: now,
        data: { ...told(row, row.attempts), verification, changedAt: now.toISOString() },
      }),
    ]);
    // The audit, in the same transaction: its entries are linked into the chain by the sealer after commit (no lock here).
    await recordSystemAudit(trx, auditBy(row), [
      {
        at: now,
        employeeId: row.employee_id,
        systemId: row.system_id,
        event: 'system_access_changed',
        reason: `${row.action} on ${row.system_id} (${row.connector}) made and verified: ${verification}`,
        holdId: row.hold_id,
        detail: { ...change(row, row.attempts), revocationId: row.revocation_id, verification },
      },
    ]);
    return true;
  });
}

async function recordFailure(deps: ApplyChangeDeps, task: TaskRow, failure: Failure, policy: RetryPolicy): Promise<ChangeOutcome> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const giveUp = !failure.transient || task.attempts >= policy.maxAttempts;
    // The delay before attempt `attempts + 1`, after `attempts` failed ones: the project's one formula.
    const retryAt = giveUp ? null : new Date(now.getTime() + backoffDelay(task.attempts, { baseMs: policy.baseMs, maxMs: policy.maxMs }));
    const row = await trx
      .updateTable('connector_tasks')
      .set({
        status: giveUp ? 'failed' : 'pending',
        done_at: giveUp ? now : null,
        next_attempt_at: retryAt ?? sql<Date>`next_attempt_at`,
        last_error: failure.message,
        last_error_code: failure.code,
        leased_until: null,
        lease_token: null,
        updated_at: now,
      })
      .where('id', '=', task.id)
      .where('status', '=', 'pending')
      .where('lease_token', '=', task.lease_token)
      .returningAll()
      .executeTakeFirst();
    if (!row) return 'lease lost';
    // Told once when it first fails (the case shows it is being retried), and once when Access gives up.
    const firstFailure = task.last_error === null;
    if (giveUp) {
      const why = failure.transient ? `gave up after ${row.attempts} attempts` : 'refused';
      await recordSystemAudit(trx, auditBy(row), [
        {
          at: now,
          employeeId: row.employee_id,
          systemId: row.system_id,
          event: 'system_access_change_failed',
          reason: `${row.action} on ${row.system_id} (${row.connector}) failed, ${why}: ${failure.message}`,
          holdId: row.hold_id,
          detail: { ...change(row, row.attempts), revocationId: row.revocation_id, error: failure.message, code: failure.code, transient: failure.transient },
        },
      ]);
    }
    if (giveUp || firstFailure) {
      await deps.bus?.publish(trx, [
        createEvent({
          type: EventTypes.systemAccessChangeFailed,
          source: EventSources.access,
          subject: subjectOf(row),
          correlationId: row.correlation_id,
          traceparent: row.traceparent ?? undefined,
          time: now,
          data: { ...told(row, row.attempts), error: failure.message, willRetry: !giveUp, retryAt: retryAt ? retryAt.toISOString() : null, failedAt: now.toISOString() },
        }),
      ]);
    }
    return giveUp ? 'failed' : 'retry';
  });
}

const UNCONNECTED = 'the system is no longer connected (it is not in the systems file): the change was not made';

/**
 * At start, when the systems file is the whole truth: pending changes for systems it no longer lists
 * will never be carried out — each is failed, audited and told (systemAccessChangeFailed, willRetry
 * false) so the case does not show it waiting for ever.
 */
export async function abandonUnconnectedChanges(deps: ApplyChangeDeps, connectedIds: readonly string[]): Promise<number> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    let q = trx
      .updateTable('connector_tasks')
      .set({ status: 'failed', done_at: now, updated_at: now, leased_until: null, lease_token: null, last_error: UNCONNECTED, last_error_code: 'unconnected' })
      .where('status', '=', 'pending');
    if (connectedIds.length > 0) q = q.where('system_id', 'not in', [...connectedIds]);
    const rows = await q.returningAll().execute();
    if (rows.length === 0) return 0;
    const attempts = (row: TaskRow) => Math.max(1, row.attempts);
    await recordSystemAudit(
      trx,
      { actor: CONNECTOR_ACTOR, onBehalfOf: null },
      rows.map((row) => ({
        at: now,
        employeeId: row.employee_id,
        systemId: row.system_id,
        event: 'system_access_change_failed' as const,
        reason: `${row.action} on ${row.system_id} (${row.connector}) failed: ${UNCONNECTED}`,
        holdId: row.hold_id,
        detail: { ...change(row, row.attempts), revocationId: row.revocation_id, error: UNCONNECTED, code: 'unconnected', transient: false },
      })),
    );
    await deps.bus?.publish(
      trx,
      rows.map((row) =>
        createEvent({
          type: EventTypes.systemAccessChangeFailed,
          source: EventSources.access,
          subject: subjectOf(row),
          correlationId: row.correlation_id,
          traceparent: row.traceparent ?? undefined,
          time: now,
          data: { ...told(row, attempts(row)), error: UNCONNECTED, willRetry: false, retryAt: null, failedAt: now.toISOString() },
        }),
      ),
    );
    deps.log.warn({ changes: rows.length, systems: [...new Set(rows.map((r) => r.system_id))] }, 'pending changes for systems no longer in the systems file failed');
    return rows.length;
  });
}
