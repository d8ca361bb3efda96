import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '@ems/platform';
import { EventSources, EventTypes } from '@ems/contracts/events';
import { createEvent, type EventBus } from '@ems/eventbus';
import type { AccessTx } from '../db/access.db.ts';
import { lockIdentity } from '../db/locks.ts';
import type { AuditBy } from '../audit/actor.ts';
import { recordAudit, recordSystemAudit } from '../audit/record-audit.ts';
import { compareAccount, driftKey, type AccountBelief, type AccountDecision, type AccountPhase, type ObservedAccount } from './compare-account.ts';

export interface ReconcileAccountDeps {
  clock: Clock;
  bus?: EventBus | undefined;
}

/** What comparing one account changed. */
export interface AccountOutcome {
  deferred: boolean;
  newDrifts: number;
  resolvedDrifts: number;
  discoveredGrants: number;
  removedGrants: number;
}

/**
 * Compares one person's account on one system, as the system was read (`observed`, read from
 * `readSince` on), with what Access believes, and records the outcome — in the caller's transaction,
 * under the person's identity lock, so a hold, release or revocation of the same person runs before or
 * after it, never across it:
 *
 *   load belief ─▶ compareAccount ─┬─ nothing   ─▶ resolve the open drifts no longer found
 *                                  ├─ sync      ─▶ discovered grants (active) / removed grants (revoked), audited; open drifts resolved
 *                                  └─ drift     ─▶ per new drift: row + audit row + accessDriftDetected; found again: nothing; gone: resolved
 *
 * A change of this person's access made while the system was being read (a hold created and its lock
 * applied meanwhile) would make the reading stale: such an account is deferred to the next round, as
 * is one with a connector task still pending.
 */
export async function reconcileAccount(
  trx: AccessTx,
  deps: ReconcileAccountDeps,
  system: { id: string; name: string },
  employeeId: string,
  observed: ObservedAccount,
  readSince: Date,
  by: AuditBy,
): Promise<AccountOutcome> {
  const outcome: AccountOutcome = { deferred: false, newDrifts: 0, resolvedDrifts: 0, discoveredGrants: 0, removedGrants: 0 };
  // The system names its entitlements as it likes: a NUL or half a surrogate pair could not be stored,
  // and would fail this account's comparison at every round (hiding its drift with it).
  observed = { ...observed, entitlements: observed.entitlements.map(storableName) };
  if (!(await lockIdentity(trx, employeeId))) return { ...outcome, deferred: true };
  const belief = await loadBelief(trx, employeeId, system.id, readSince);
  const decision = compareAccount(belief, observed, system.name);
  if (decision.outcome === 'nothing' && decision.why === 'change in flight') return { ...outcome, deferred: true };

  const now = deps.clock.now();
  const holdId = belief.phase.kind === 'held' ? belief.phase.holdId : null;
  if (decision.outcome === 'sync') {
    Object.assign(outcome, await recordSync(trx, decision, system, employeeId, now, by));
  }
  const found = decision.outcome === 'drift' ? decision.drifts : [];
  const stillFound = new Set(found.map(driftKey));

  // Drifts no longer found (fixed in the system, or the hold released) are resolved.
  const open = await trx.selectFrom('drifts').select(['id', 'kind', 'entitlement']).where('employee_id', '=', employeeId).where('system_id', '=', system.id).where('resolved_at', 'is', null).execute();
  const gone = open.filter((d) => !stillFound.has(driftKey(d))).map((d) => d.id);
  if (gone.length > 0) {
    await trx.updateTable('drifts').set({ resolved_at: now }).where('id', 'in', gone).execute();
    outcome.resolvedDrifts = gone.length;
  }
  if (decision.outcome !== 'drift') return outcome;

  // A drift found again while open is not reported again: the partial unique index keeps one open row.
  const rows = await trx
    .insertInto('drifts')
    .values(
      found.map((d) => ({
        id: randomUUID(),
        employee_id: employeeId,
        system_id: system.id,
        kind: d.kind,
        entitlement: d.entitlement,
        resignation_id: decision.resignationId,
        detail: clipped(d.detail, MAX_DETAIL),
        detected_at: now,
      })),
    )
    .onConflict((oc) => oc.expression(sql`employee_id, system_id, kind, coalesce(entitlement, '')`).where('resolved_at', 'is', null).doNothing())
    .returningAll()
    .execute();
  if (rows.length === 0) return outcome;
  outcome.newDrifts = rows.length;

  await recordSystemAudit(
    trx,
    by,
    rows.map((r) => ({
      at: now,
      employeeId,
      systemId: system.id,
      event: 'access_drift_detected' as const,
      reason: r.detail,
      holdId,
      detail: { driftId: r.id, kind: r.kind, entitlement: r.entitlement, resignationId: r.resignation_id },
    })),
  );
  await deps.bus?.publish(
    trx,
    rows.map((r) =>
      createEvent({
        type: EventTypes.accessDriftDetected,
        source: EventSources.access,
        // The case's stream when the drift contradicts one (always, today), else the person's.
        subject: r.resignation_id ?? employeeId,
        correlationId: r.resignation_id ?? `drift:${r.id}`,
        time: now,
        data: {
          driftId: r.id,
          employeeId,
          systemId: system.id,
          kind: r.kind,
          // The event carries at most MAX_EVENT_ENTITLEMENT characters of it (the drift row and the audit keep it whole).
          entitlement: r.entitlement === null ? null : clipped(r.entitlement, MAX_EVENT_ENTITLEMENT),
          resignationId: r.resignation_id,
          detail: r.detail,
          detectedAt: now.toISOString(),
        },
      }),
    ),
  );
  return outcome;
}

/** What the drift row and accessDriftDetected hold at most (drifts.detail's CHECK, the event's schema). */
const MAX_DETAIL = 2000;
const MAX_EVENT_ENTITLEMENT = 500;

/**
 * A system's name longer than `max` is shortened with an ellipsis, so an entitlement with a very long
 * name (an LDAP group deep in a tree, or one made long on purpose) is reported, not the whole account's
 * comparison lost to an event or a row that cannot be written.
 */
function clipped(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).toWellFormed()}…`;
}

/** A NUL or a lone surrogate replaced (U+FFFD): PostgreSQL text cannot hold them. */
function storableName(name: string): string {
  return name.replaceAll('\0', '\uFFFD').toWellFormed();
}

/** Outside any hold EMS mirrors the system: discovered memberships become active grants, missing ones revoked. */
async function recordSync(
  trx: AccessTx,
  decision: Extract<AccountDecision, { outcome: 'sync' }>,
  system: { id: string; name: string },
  employeeId: string,
  now: Date,
  by: AuditBy,
): Promise<Pick<AccountOutcome, 'discoveredGrants' | 'removedGrants'>> {
  const discovered = decision.discovered.map((d) => ({ ...d, grantId: d.grantId ?? `discovered-${randomUUID()}` }));
  const created = discovered.filter((d) => d.from === null);
  if (created.length > 0) {
    await trx
      .insertInto('grants')
      .values(created.map((d) => ({ id: d.grantId, employee_id: employeeId, system_id: system.id, role: d.entitlement, status: 'active' as const, suspended_by_hold: null, updated_at: now })))
      .execute();
  }
  await setGrantStatus(trx, discovered.filter((d) => d.from !== null).map((d) => d.grantId), 'active', now);
  await recordSystemAudit(
    trx,
    by,
    discovered.map((d) => ({
      at: now,
      employeeId,
      systemId: system.id,
      event: 'grant_discovered' as const,
      reason: `discovered in ${system.name}`,
      holdId: null,
      grantId: d.grantId,
      from: d.from,
      to: 'active' as const,
      detail: { entitlement: d.entitlement },
    })),
  );
  await setGrantStatus(trx, decision.removed.map((r) => r.grantId), 'revoked', now);
  await recordAudit(
    trx,
    by,
    decision.removed.map((r) => ({ at: now, employeeId, grantId: r.grantId, systemId: system.id, from: 'active' as const, to: 'revoked' as const, reason: `removed in ${system.name}, outside EMS`, holdId: null })),
  );
  return { discoveredGrants: discovered.length, removedGrants: decision.removed.length };
}

/** Grants the system shows again (active) or no longer shows (revoked): out of any hold, in one statement. */
async function setGrantStatus(trx: AccessTx, grantIds: readonly string[], status: 'active' | 'revoked', now: Date): Promise<void> {
  if (grantIds.length === 0) return;
  await trx.updateTable('grants').set({ status, suspended_by_hold: null, updated_at: now }).where('id', 'in', grantIds).execute();
}

/**
 * What Access believes about `employeeId` on `systemId`: the grants there, the phase (an active hold
 * that took a grant there, else a done revocation that did), and whether a change is in flight — a
 * connector task still pending, or any change of the person's access there since `readSince`.
 */
export async function loadBelief(trx: AccessTx, employeeId: string, systemId: string, readSince: Date): Promise<AccountBelief> {
  const grants = await trx.selectFrom('grants').select(['id', 'role', 'status', 'updated_at']).where('employee_id', '=', employeeId).where('system_id', '=', systemId).orderBy('id').execute();
  const hold = await trx
    .selectFrom('holds as h')
    .innerJoin('hold_grants as hg', 'hg.hold_id', 'h.id')
    .innerJoin('grants as g', 'g.id', 'hg.grant_id')
    .select(['h.id', 'h.resignation_id', 'h.created_at'])
    .where('h.employee_id', '=', employeeId)
    .where('h.status', '=', 'active')
    .where('g.system_id', '=', systemId)
    .orderBy('h.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const revocation = hold
    ? undefined
    : await trx
        .selectFrom('revocations as r')
        .innerJoin('revocation_grants as rg', 'rg.revocation_id', 'r.id')
        .select(['r.id', 'r.resignation_id', 'r.done_at'])
        .where('r.employee_id', '=', employeeId)
        .where('r.status', '=', 'done')
        .where('rg.system_id', '=', systemId)
        .orderBy('r.done_at', 'desc')
        .limit(1)
        .executeTakeFirst();
  const tasks = await trx
    .selectFrom('connector_tasks')
    .select(['status', 'updated_at'])
    .where('employee_id', '=', employeeId)
    .where('system_id', '=', systemId)
    .where((eb) => eb.or([eb('status', '=', 'pending'), eb('updated_at', '>=', readSince)]))
    .execute();
  // A hold released (or a revocation done) while the system was read changes the phase: the reading is stale.
  const releasedSince = await trx
    .selectFrom('holds')
    .select('id')
    .where('employee_id', '=', employeeId)
    .where((eb) => eb.or([eb('created_at', '>=', readSince), eb('released_at', '>=', readSince)]))
    .limit(1)
    .executeTakeFirst();
  const phase: AccountPhase = hold
    ? { kind: 'held', holdId: hold.id, resignationId: hold.resignation_id }
    : revocation
      ? { kind: 'revoked', revocationId: revocation.id, resignationId: revocation.resignation_id }
      : { kind: 'open' };
  return {
    employeeId,
    systemId,
    phase,
    grants: grants.map((g) => ({ id: g.id, entitlement: g.role, status: g.status })),
    changeInFlight:
      tasks.length > 0 ||
      releasedSince !== undefined ||
      grants.some((g) => g.updated_at >= readSince) ||
      (revocation?.done_at != null && revocation.done_at >= readSince),
  };
}
