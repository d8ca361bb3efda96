import type { access } from '@ems/contracts';
import type { Actor, Clock, Logger } from '@ems/platform';
import type { EventBus } from '@ems/eventbus';
import type { AccessDb } from '../db/access.db.ts';
import { ConnectorError, type AccountRef, type Connector } from '../connectors/connector.ts';
import { storableMessage } from '../connectors/apply-changes/apply-change.ts';
import type { AuditBy } from '../audit/actor.ts';
import { reconcileAccount, type AccountOutcome } from './reconcile-account.ts';

/**
 * One reconciliation round: every connected system whose connector can read accounts back (inspect)
 * is compared, account by account, with what Access believes (reconcile-account.ts).
 *
 *   systems with inspect() ─▶ the identities with a grant there ─▶ inspect (≤ concurrency at once,
 *   each within timeoutMs) ─▶ reconcileAccount in its own transaction ─▶ the round's summary
 *
 * A system that cannot be read (down, timed out, refusing EMS's credentials) is reported in the summary
 * and the log and left for the next round; the other systems go on. An account the system answers
 * about with an error of its own is counted and the system's other accounts go on.
 */

/** The connected systems, as the connector registry has them (connectors/registry.ts). */
export interface InspectableSystems {
  readonly all: ReadonlyArray<{ id: string; name: string; connector: Connector }>;
}

export interface ReconciliationDeps {
  db: AccessDb;
  clock: Clock;
  log: Logger;
  bus?: EventBus | undefined;
  systems: InspectableSystems;
  /** Accounts inspected at once, over all systems. */
  concurrency: number;
  /** Longest wait for one inspect call. */
  timeoutMs: number;
}

/** The Access service's reconciler, as audit rows name it (on behalf of whoever asked for a round now). */
export const RECONCILER_ACTOR: Actor = { id: 'access', kind: 'service', name: null, role: 'service', client: 'reconciler' };

export async function runReconciliation(deps: ReconciliationDeps, onBehalfOf: Actor | null, signal?: AbortSignal): Promise<access.Reconciliation> {
  const { db, log } = deps;
  const startedAt = deps.clock.now();
  const by: AuditBy = { actor: RECONCILER_ACTOR, onBehalfOf };
  const readable = deps.systems.all.filter((s) => typeof s.connector.inspect === 'function');

  const summaries = new Map<string, access.Reconciliation['systems'][number]>();
  const work: Array<{ system: (typeof readable)[number]; account: AccountRef }> = [];
  for (const system of readable) {
    summaries.set(system.id, { systemId: system.id, status: 'ok', accounts: 0, deferred: 0, newDrifts: 0, resolvedDrifts: 0, discoveredGrants: 0, removedGrants: 0, error: null });
    const accounts = await db
      .selectFrom('identities as i')
      .select(['i.employee_id', 'i.email'])
      .where((eb) => eb.exists(eb.selectFrom('grants as g').select('g.id').whereRef('g.employee_id', '=', 'i.employee_id').where('g.system_id', '=', system.id)))
      .orderBy('i.employee_id')
      .execute();
    for (const a of accounts) work.push({ system, account: { employeeId: a.employee_id, email: a.email } });
  }

  // A system that failed as a whole is not asked again this round.
  const down = new Set<string>();
  const failedAccounts = new Map<string, number>();
  let next = 0;
  async function worker(): Promise<void> {
    while (next < work.length && !signal?.aborted) {
      const { system, account } = work[next++]!;
      if (down.has(system.id)) continue;
      const summary = summaries.get(system.id)!;
      const readSince = deps.clock.now();
      let state;
      try {
        state = await inspectWithin(system.connector, account, deps.timeoutMs, signal);
      } catch (err) {
        const { message, systemDown } = describeFailure(err, deps.timeoutMs);
        summary.error ??= message;
        if (systemDown) {
          down.add(system.id);
          summary.status = 'failed';
          log.warn({ systemId: system.id, employeeId: account.employeeId, error: message }, 'reconciliation: system could not be read; trying again next round');
        } else {
          failedAccounts.set(system.id, (failedAccounts.get(system.id) ?? 0) + 1);
          log.warn({ systemId: system.id, employeeId: account.employeeId, error: message }, 'reconciliation: account could not be read');
        }
        continue;
      }
      try {
        const outcome = await db.transaction().execute((trx) => reconcileAccount(trx, deps, system, account.employeeId, state, readSince, by));
        add(summary, outcome);
      } catch (err) {
        failedAccounts.set(system.id, (failedAccounts.get(system.id) ?? 0) + 1);
        summary.error ??= 'recording the comparison failed (see the log)';
        log.error({ err, systemId: system.id, employeeId: account.employeeId }, 'reconciliation: recording the comparison failed');
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency, work.length)) }, () => worker()));

  for (const [systemId, n] of failedAccounts) {
    const s = summaries.get(systemId)!;
    if (s.status === 'ok') s.status = 'partial';
    log.warn({ systemId, accounts: n }, 'reconciliation: some accounts were not compared');
  }
  const systems = [...summaries.values()];
  const newDrifts = systems.reduce((n, s) => n + s.newDrifts, 0);
  const open = await db.selectFrom('drifts').select((eb) => eb.fn.countAll<string>().as('n')).where('resolved_at', 'is', null).executeTakeFirstOrThrow();
  const result = { startedAt: startedAt.toISOString(), finishedAt: deps.clock.now().toISOString(), systems, newDrifts, openDrifts: Number(open.n) };
  log.info({ systems: systems.map((s) => `${s.systemId}:${s.status}`), accounts: systems.reduce((n, s) => n + s.accounts, 0), newDrifts, openDrifts: result.openDrifts }, 'reconciliation round done');
  return result;
}

function add(summary: access.Reconciliation['systems'][number], o: AccountOutcome): void {
  if (o.deferred) {
    summary.deferred++;
    return;
  }
  summary.accounts++;
  summary.newDrifts += o.newDrifts;
  summary.resolvedDrifts += o.resolvedDrifts;
  summary.discoveredGrants += o.discoveredGrants;
  summary.removedGrants += o.removedGrants;
}

class InspectTimeout extends Error {}

/**
 * Refusals of EMS's own session, not of one account: the service account's bind (LDAP invalid credentials
 * 49, inappropriate authentication 48, confidentiality or strong authentication required 13, 8) or the
 * bearer token (HTTP 401). Asking again for every other account would only repeat the refused login
 * (and could lock the service account out): the system is failed for the round.
 */
const SESSION_REFUSED = new Set(['49', '48', '13', '8', '401']);

/** inspect(), abandoned after `ms` (its signal aborted) or when the round is stopped. */
async function inspectWithin(connector: Connector, account: AccountRef, ms: number, outer?: AbortSignal) {
  const timeout = AbortSignal.timeout(ms);
  const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(timeout.aborted ? new InspectTimeout() : new Error('reconciliation stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    // A connector that ignores the signal still loses the race.
    return await Promise.race([connector.inspect!(account, signal), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The system's own message — made storable (a NUL or half a surrogate pair from the system would make the
 * round's summary unstorable, and the round answer 500); transient errors and timeouts mean the system as
 * a whole is not readable now.
 */
function describeFailure(err: unknown, timeoutMs: number): { message: string; systemDown: boolean } {
  if (err instanceof InspectTimeout) return { message: `no answer within ${timeoutMs} ms`, systemDown: true };
  if (err instanceof ConnectorError) {
    return { message: storableMessage(err.message || 'connector error', 1000), systemDown: err.transient || SESSION_REFUSED.has(err.code ?? '') };
  }
  // Anything else is the connector failing, not the system answering: do not go on hammering it.
  return { message: storableMessage(err instanceof Error ? err.message : String(err), 1000), systemDown: true };
}
