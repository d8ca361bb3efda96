import { sql, type Kysely, type Selectable } from 'kysely';
import type { Clock } from '@ems/platform';
import type { ems } from '@ems/contracts';
import { AccessDriftDetected, EventTypes, SystemAccessChanged, SystemAccessChangeFailed, type CloudEvent, type EventData } from '@ems/contracts/events';
import { firstDelivery } from '@ems/eventbus';
import type { CaseDriftRow, CaseSystemRow, EmsDb } from '../db/types.ts';
import { localTime } from '../domain/summaries.ts';

/** The events about one connected system that EMS writes onto a case, in both modes. */
export const CONNECTED_SYSTEM_EVENT_TYPES = [EventTypes.systemAccessChanged, EventTypes.systemAccessChangeFailed, EventTypes.accessDriftDetected] as const;

/** The subscriber name (it keys EMS's processed-event records for these events). */
export const RECORD_SYSTEM_ACCESS_SUBSCRIBER = 'ems.record-system-access-when-reported';

/**
 * Access reported what a connected system did (or failed to do, or was found doing) about a case: in
 * one transaction, once per event however often it is delivered, the case's per-system status moves
 * (never back: a late "retrying" does not undo a "done") and the timeline says it in words.
 * An event about no case (resignationId null) or a case this EMS does not hold changes nothing.
 */
export async function recordSystemAccess(db: Kysely<EmsDb>, clock: Clock, event: CloudEvent): Promise<'recorded' | 'duplicate' | 'no-case'> {
  const report = parse(event);
  if (!report?.resignationId) return 'no-case';
  const resignationId = report.resignationId;
  return db.transaction().execute(async (trx) => {
    const kase = await trx.selectFrom('resignations').select(['id', 'correlation_id', 'status', 'employee_timezone']).where('id', '=', resignationId).forUpdate().executeTakeFirst();
    if (!kase) return 'no-case' as const;
    if (!(await firstDelivery(trx, 'ems', RECORD_SYSTEM_ACCESS_SUBSCRIBER, event.id))) return 'duplicate' as const;
    let summary: string;
    if (report.kind === 'drift') {
      const d = report.data;
      await trx
        .insertInto('case_drifts')
        .values({ drift_id: d.driftId, resignation_id: resignationId, system_id: d.systemId, kind: d.kind, entitlement: d.entitlement, detail: d.detail, detected_at: d.detectedAt })
        .onConflict((oc) => oc.column('drift_id').doNothing())
        .execute();
      summary = driftSummary(d, kase.status === 'exited' ? 'after the revocation' : 'during the hold');
    } else {
      const row = systemRow(resignationId, report);
      await trx
        .insertInto('case_systems')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['resignation_id', 'change_id'])
            .doUpdateSet((eb) => ({
              status: eb.ref('excluded.status'),
              attempts: eb.ref('excluded.attempts'),
              verification: eb.ref('excluded.verification'),
              error: eb.ref('excluded.error'),
              retry_at: eb.ref('excluded.retry_at'),
              at: eb.ref('excluded.at'),
            }))
            // Never back from done; otherwise the later attempt wins, and at the same attempt giving up wins over retrying.
            .where(
              sql<boolean>`case_systems.status <> 'done' AND (excluded.status = 'done' OR excluded.attempts > case_systems.attempts OR (excluded.attempts = case_systems.attempts AND excluded.status = 'failed'))`,
            ),
        )
        .execute();
      summary = systemSummary(report, kase.employee_timezone);
    }
    const at = clock.now();
    await trx.updateTable('resignations').set({ updated_at: at }).where('id', '=', resignationId).execute();
    await trx
      .insertInto('timeline')
      .values({
        resignation_id: resignationId,
        at: new Date(event.time),
        service: 'access',
        type: event.type,
        summary,
        correlation_id: kase.correlation_id,
        detail: JSON.stringify(timelineDetail(event, report)),
        // The tracker's key for an event: the event shows once, whoever wrote it.
        dedupe_key: `event.${event.id}`,
      })
      .onConflict((oc) => oc.columns(['resignation_id', 'dedupe_key']).doNothing())
      .execute();
    return 'recorded' as const;
  });
}

type Report =
  | { kind: 'changed'; resignationId: string | null; data: SystemAccessChanged }
  | { kind: 'failed'; resignationId: string | null; data: SystemAccessChangeFailed }
  | { kind: 'drift'; resignationId: string | null; data: AccessDriftDetected };

type SystemAccessChanged = EventData<typeof EventTypes.systemAccessChanged>;
type SystemAccessChangeFailed = EventData<typeof EventTypes.systemAccessChangeFailed>;
type AccessDriftDetected = EventData<typeof EventTypes.accessDriftDetected>;

function parse(event: CloudEvent): Report | undefined {
  switch (event.type) {
    case EventTypes.systemAccessChanged: {
      const data = SystemAccessChanged.parse(event.data);
      return { kind: 'changed', resignationId: data.resignationId, data };
    }
    case EventTypes.systemAccessChangeFailed: {
      const data = SystemAccessChangeFailed.parse(event.data);
      return { kind: 'failed', resignationId: data.resignationId, data };
    }
    case EventTypes.accessDriftDetected: {
      const data = AccessDriftDetected.parse(event.data);
      return { kind: 'drift', resignationId: data.resignationId, data };
    }
    default:
      return undefined;
  }
}

function systemRow(resignationId: string, r: Extract<Report, { kind: 'changed' | 'failed' }>) {
  const d = r.data;
  const base = { resignation_id: resignationId, change_id: d.changeId, system_id: d.systemId, connector: d.connector, action: d.action, entitlements: d.entitlements, attempts: d.attempts };
  if (r.kind === 'changed') return { ...base, status: 'done' as const, verification: r.data.verification, error: null, retry_at: null, at: r.data.changedAt };
  return { ...base, status: r.data.willRetry ? ('retrying' as const) : ('failed' as const), verification: null, error: r.data.error, retry_at: r.data.retryAt, at: r.data.failedAt };
}

const ACTION_DONE: Record<'suspend' | 'restore' | 'revoke', string> = { suspend: 'access suspended', restore: 'access restored', revoke: 'access revoked' };
const ACTION_TO: Record<'suspend' | 'restore' | 'revoke', string> = { suspend: 'suspend access', restore: 'restore access', revoke: 'revoke access' };

function entitlementWords(action: 'suspend' | 'restore' | 'revoke', n: number): string {
  if (n === 0) return '';
  return ` (${n} ${n === 1 ? 'entitlement' : 'entitlements'} ${action === 'restore' ? 'given back' : 'taken away'})`;
}

/** "corp-ldap: access suspended (2 entitlements taken away), verified — bind as uid=ada refused: account locked" */
function systemSummary(r: Extract<Report, { kind: 'changed' | 'failed' }>, timezone: string): string {
  const d = r.data;
  if (r.kind === 'changed') return `${d.systemId}: ${ACTION_DONE[d.action]}${entitlementWords(d.action, d.entitlements.length)}, verified — ${r.data.verification}`;
  const attempt = d.attempts > 1 ? ` (attempt ${d.attempts})` : '';
  if (r.data.willRetry) {
    return `${d.systemId} failed to ${ACTION_TO[d.action]}${attempt}: ${r.data.error}; ${r.data.retryAt ? `retrying at ${localTime(r.data.retryAt, timezone)} (${timezone})` : 'retrying'}`;
  }
  return `${d.systemId} failed to ${ACTION_TO[d.action]}${attempt}: ${r.data.error}; Access gave up — it needs IT's attention`;
}

/** "Drift: account re-enabled in corp-ldap during the hold" */
function driftSummary(d: AccessDriftDetected, when: string): string {
  const what =
    d.kind === 'account_enabled'
      ? 'account re-enabled'
      : d.kind === 'entitlement_added'
        ? `${d.entitlement ?? 'an entitlement'} added`
        : `${d.entitlement ?? 'an entitlement'} missing`;
  return `Drift: ${what} in ${d.systemId} ${when}`;
}

/** Which event said so and about what system (never the payload whole). */
function timelineDetail(event: CloudEvent, r: Report): Record<string, unknown> {
  const base = { eventId: event.id, source: event.source, systemId: r.data.systemId };
  if (r.kind === 'drift') return { ...base, driftId: r.data.driftId, kind: r.data.kind, entitlement: r.data.entitlement, drift: r.data.detail };
  return { ...base, changeId: r.data.changeId, action: r.data.action, attempts: r.data.attempts, ...(r.kind === 'failed' ? { willRetry: r.data.willRetry, retryAt: r.data.retryAt } : {}) };
}

/** The case view's connected systems and drifts, for the cases given (one query each). */
export async function connectedSystemsOf(db: Kysely<EmsDb>, ids: readonly string[]): Promise<Map<string, { systems: ems.CaseSystem[]; drifts: ems.CaseDrift[] }>> {
  const out = new Map(ids.map((id) => [id, { systems: [] as ems.CaseSystem[], drifts: [] as ems.CaseDrift[] }]));
  if (!ids.length) return out;
  const [systems, drifts] = await Promise.all([
    db.selectFrom('case_systems').selectAll().where('resignation_id', 'in', [...ids]).orderBy('at').orderBy('system_id').execute(),
    db.selectFrom('case_drifts').selectAll().where('resignation_id', 'in', [...ids]).orderBy('detected_at').execute(),
  ]);
  for (const s of systems) out.get(s.resignation_id)?.systems.push(toCaseSystem(s));
  for (const d of drifts) out.get(d.resignation_id)?.drifts.push(toCaseDrift(d));
  return out;
}

const iso = (v: Date | string) => new Date(v).toISOString();

function toCaseSystem(r: Selectable<CaseSystemRow>): ems.CaseSystem {
  return {
    changeId: r.change_id,
    systemId: r.system_id,
    connector: r.connector,
    action: r.action,
    status: r.status,
    entitlements: r.entitlements,
    attempts: r.attempts,
    verification: r.verification,
    error: r.error,
    retryAt: r.retry_at === null ? null : iso(r.retry_at),
    at: iso(r.at),
  };
}

function toCaseDrift(r: Selectable<CaseDriftRow>): ems.CaseDrift {
  return { driftId: r.drift_id, systemId: r.system_id, kind: r.kind as ems.CaseDrift['kind'], entitlement: r.entitlement, detail: r.detail, detectedAt: iso(r.detected_at) };
}
