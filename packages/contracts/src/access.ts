import { z } from 'zod';
import { EmployeeId, IsoDateTime, ListOf, PageQuery, StorableLine, StorableText, Uuid } from './common.ts';
import { Actor } from './ems.ts';
import { AccessRestored, DriftKind, ExitAccessSuspended, InvoluntaryExitsStarted } from './events.ts';

/** Access service API: systems, grants, access holds. */

export const GrantStatus = z.enum(['active', 'suspended', 'revoked']);
export type GrantStatus = z.infer<typeof GrantStatus>;

export const EffectiveAccessItem = z.object({
  grantId: z.string(),
  system: z.string(),
  systemName: z.string(),
  critical: z.boolean(),
  role: z.string(),
  status: GrantStatus,
});
export const EffectiveAccess = z
  .object({ employeeId: EmployeeId, items: z.array(EffectiveAccessItem) })
  .meta({ id: 'EffectiveAccess' });

export const HoldStatus = z.enum(['active', 'released']);

export const ConnectorType = z.enum(['builtin', 'ldap', 'scim', 'http']);

/**
 * One connected system's part of a hold, a release or a revocation: what Access asked the system to do
 * and how far it got (pending: not yet made, or failed and retried at nextAttemptAt; done: made and verified;
 * failed: the system refused, or attempts ran out). Built-in systems (rows only) have none.
 */
export const SystemChangeView = z
  .object({
    changeId: Uuid,
    systemId: z.string(),
    systemName: z.string(),
    connector: ConnectorType,
    action: z.enum(['suspend', 'restore', 'revoke']),
    /** The system's names of what is taken away or given back. */
    entitlements: z.array(z.string()),
    status: z.enum(['pending', 'done', 'failed']),
    attempts: z.number().int(),
    /** The system's own error of the last failed attempt. */
    lastError: z.string().nullable(),
    /** How the connector verified the change, once done. */
    verification: z.string().nullable(),
    nextAttemptAt: IsoDateTime.nullable(),
    updatedAt: IsoDateTime,
  })
  .meta({ id: 'AccessSystemChange' });
export type SystemChangeView = z.infer<typeof SystemChangeView>;

export const AccessHold = z
  .object({
    id: Uuid,
    resignationId: Uuid,
    employeeId: EmployeeId,
    status: HoldStatus,
    /** Exactly the grants this hold suspended (critical systems only). */
    suspendedGrants: z.array(z.object({ grantId: z.string(), system: z.string() })),
    createdAt: IsoDateTime,
    releasedAt: IsoDateTime.nullable(),
    /** The connected systems' part of the hold: suspend on each, then restore on release (creation order). Absent from an Access older than connectors: none. */
    systems: z.array(SystemChangeView).default([]),
  })
  .meta({ id: 'AccessHold' });
export type AccessHold = z.infer<typeof AccessHold>;

export const SuspendAccessRequest = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    reason: StorableText.max(500).optional(),
  })
  .meta({ id: 'SuspendAccessRequest' });
export type SuspendAccessRequest = z.infer<typeof SuspendAccessRequest>;

/** Body of POST /api/access-holds/{id}/release; optional. */
export const ReleaseHoldRequest = z
  .object({ reason: StorableText.max(500).optional() })
  .meta({ id: 'ReleaseHoldRequest' });
export type ReleaseHoldRequest = z.infer<typeof ReleaseHoldRequest>;

/**
 * POST /api/access-holds/lifts (operation restoreAccess, service ems): the case is off (retained or withdrawn) — lift its
 * hold, whichever it is, or, when it has none yet, record one released so that a hold asked for later changes nothing.
 * The orchestrator's command; choreography's retained / withdrawn events run the same use case. The answer is what
 * accessRestored says (holdId null: there was no hold).
 */
export const RestoreAccessRequest = z
  .object({ resignationId: Uuid, employeeId: EmployeeId, reason: StorableText.min(1).max(500) })
  .meta({ id: 'RestoreAccessRequest' });
export type RestoreAccessRequest = z.infer<typeof RestoreAccessRequest>;
export const HoldLifted = AccessRestored.meta({ id: 'HoldLifted' });
export type HoldLifted = z.infer<typeof HoldLifted>;

/**
 * Revoking every remaining grant (active or suspended) of a leaver. Without `revokeAt` (or with one in
 * the past) Access revokes at once; with a future `revokeAt` it keeps a durable timer and revokes then.
 * Idempotent per resignation: a repeat changes nothing; a higher `revision` moves a scheduled time —
 * or, without `revokeAt`, revokes a scheduled one at once, keeping the instant it was scheduled for.
 */
export const RevocationRequest = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    revokeAt: IsoDateTime.optional(),
    revision: z.number().int().min(1).default(1),
    reason: StorableText.max(500).optional(),
  })
  .strict()
  .meta({ id: 'RevocationRequest' });
export type RevocationRequest = z.infer<typeof RevocationRequest>;

export const RevocationStatus = z.enum(['scheduled', 'done', 'cancelled']);
export const Revocation = z
  .object({
    id: Uuid,
    resignationId: Uuid,
    employeeId: EmployeeId,
    status: RevocationStatus,
    /** The instant it is (or was) scheduled for; kept when it is revoked earlier, "now". */
    revokeAt: IsoDateTime,
    revision: z.number().int(),
    /** The grants revoked (empty until done). */
    revoked: z.array(z.object({ grantId: z.string(), system: z.string() })),
    /** When it was actually carried out (null until done). */
    doneAt: IsoDateTime.nullable(),
    /** The connected systems' part of the revocation (empty until done, and for built-in systems). Absent from an Access older than connectors: none. */
    systems: z.array(SystemChangeView).default([]),
  })
  .meta({ id: 'Revocation' });
export type Revocation = z.infer<typeof Revocation>;
export const RevocationList = ListOf(Revocation).meta({ id: 'RevocationList' });
export const RevocationListQuery = PageQuery.extend({ resignationId: Uuid.optional(), employeeId: EmployeeId.optional(), status: RevocationStatus.optional() });

export const AccessSystem = z
  .object({
    id: z.string(),
    name: z.string(),
    critical: z.boolean(),
    /** How Access reaches it: its connector type and the settings it may show (never a secret). */
    connector: z.object({ type: ConnectorType, settings: z.record(z.string(), z.unknown()) }),
  })
  .meta({ id: 'AccessSystem' });
export const SystemList = ListOf(AccessSystem).meta({ id: 'AccessSystemList' });

/**
 * A service calling Access on someone's behalf (the orchestrator, for the HR partner who decided) names
 * them in this header: the base64url of the Actor's JSON, e.g.
 * `Buffer.from(JSON.stringify(actor)).toString('base64url')`. Accepted from service identities only;
 * a person's request carrying it is refused (400), as is a malformed one.
 */
export const ON_BEHALF_OF_HEADER = 'x-ems-on-behalf-of';

const headerText = (min: number, max: number) => StorableLine.min(min).max(max);

/** The decoded `x-ems-on-behalf-of` header: exactly an Actor, nothing more. */
export const OnBehalfOf = z
  .object({
    id: headerText(1, 200),
    kind: z.enum(['person', 'service']),
    name: headerText(0, 200).nullable(),
    role: headerText(1, 50),
    client: headerText(1, 200),
  })
  .strict();
export type OnBehalfOf = z.infer<typeof OnBehalfOf>;

export const AuditEventKind = z.enum(['system_access_changed', 'system_access_change_failed', 'access_drift_detected', 'grant_discovered']);

/**
 * One status change of one grant, or one system-level event. The audit is append-only and hash-chained: `hash` is the hex SHA-256
 * of `prevHash` (the previous entry's hash in the chain; null for the first) followed by the entry's canonical JSON,
 * so altering or removing an entry breaks the chain at that point (GET /api/access-audit/verification).
 * An entry is written with the change it records and linked into the chain a moment later: until then it is
 * `pending` (chainSeq, prevHash and hash null).
 */
export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: IsoDateTime,
    employeeId: EmployeeId,
    /** The grant whose status changed; null on a system-level entry. */
    grantId: z.string().nullable(),
    system: z.string(),
    /** null on a system-level entry (and `from` on a grant discovered on a system). */
    from: GrantStatus.nullable(),
    to: GrantStatus.nullable(),
    reason: z.string(),
    holdId: Uuid.nullable(),
    /** Who made the change: the caller (person or service), or the Access service itself reacting to an event or firing its timer. */
    actor: Actor,
    /** Whom the actor acted for: the person who decided, when the change follows their decision. */
    onBehalfOf: Actor.nullable(),
    /** Written but not linked into the hash chain yet (the sealer links it within a moment). */
    pending: z.boolean(),
    /** The entry's place in the hash chain (1, 2, 3 … in the order entries were linked); null while pending. */
    chainSeq: z.number().int().nullable(),
    prevHash: z.string().nullable(),
    /** null while pending. */
    hash: z.string().nullable(),
    /**
     * null: a grant status change. Otherwise a system-level entry: a connected system made a change
     * (system_access_changed) or refused it for good (system_access_change_failed), drift was found
     * (access_drift_detected), or a grant was found on a system (grant_discovered); `detail` says more.
     */
    event: AuditEventKind.nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AccessAuditEntry' });

/** Why the audit's hash chain is broken at an entry. */
export const AuditChainBreak = z.enum(['hash does not match its content', "prev_hash does not match the previous row's hash"]);

/**
 * The answer of GET /api/access-audit/verification: every entry linked into the chain, in chain order, is
 * recomputed from its content and checked against the entry before it. Gaps in the ids are not breaks (an insert rolled
 * back leaves one); a deleted entry shows as the next entry's broken link. `summary` says it in a sentence.
 */
export const AuditVerification = z
  .discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      /** Entries checked: every one linked into the chain. */
      rows: z.number().int(),
      /** Entries written but not linked into the chain yet (not checked; the sealer links them within a moment). */
      pending: z.number().int(),
      /** The last entry's id and hash (null when the audit is empty): keep them to notice later that entries were cut off the end. */
      lastId: z.number().int().nullable(),
      lastHash: z.string().nullable(),
      checkedAt: IsoDateTime,
      summary: z.string(),
    }),
    z.object({
      ok: z.literal(false),
      /** Entries checked, the broken one included. */
      rows: z.number().int(),
      /** Entries written but not linked into the chain yet. */
      pending: z.number().int(),
      /** The first entry that does not hold: altered itself, or (a broken link) the one after an entry altered or removed. */
      firstBrokenId: z.number().int(),
      reason: AuditChainBreak,
      /** The last entry before it that holds, or null when the break is at the first entry. */
      lastIntactId: z.number().int().nullable(),
      checkedAt: IsoDateTime,
      summary: z.string(),
    }),
  ])
  .meta({ id: 'AccessAuditVerification' });
export type AuditVerification = z.infer<typeof AuditVerification>;

export const HoldList = ListOf(AccessHold).meta({ id: 'AccessHoldList' });
export const HoldListQuery = PageQuery.extend({ resignationId: Uuid.optional(), employeeId: EmployeeId.optional() });
export const AuditList = ListOf(AuditEntry).meta({ id: 'AccessAuditList' });
export const AuditListQuery = PageQuery.extend({
  employeeId: EmployeeId.optional(),
  holdId: Uuid.optional(),
  /** Entries from this id on (a check that an earlier check's last entry is still there). */
  fromId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

export { AccessPaths } from './paths.ts';

// ── Drift detection ────────────────────────────────────────────────────────────────────────────────

/**
 * A difference between a connected system and what Access believes, found by a reconciliation during a
 * hold or after a revocation. Open until a later reconciliation no longer finds it (resolvedAt); one
 * open drift per (employee, system, kind, entitlement).
 */
export const AccessDrift = z
  .object({
    id: Uuid,
    employeeId: EmployeeId,
    systemId: z.string(),
    kind: DriftKind,
    /** The entitlement concerned; null for account_enabled. */
    entitlement: z.string().nullable(),
    /** The case whose hold or revocation the system contradicts. */
    resignationId: Uuid.nullable(),
    /** In words: what EMS expected and what the system showed. */
    detail: z.string(),
    detectedAt: IsoDateTime,
    /** When a reconciliation no longer found it; null while open. */
    resolvedAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'AccessDrift' });
export type AccessDrift = z.infer<typeof AccessDrift>;

export const DriftList = ListOf(AccessDrift).meta({ id: 'AccessDriftList' });
export const DriftListQuery = PageQuery.extend({
  /** open (default): drifts not resolved yet; all: every drift, newest first. */
  status: z.enum(['open', 'all']).default('open'),
  employeeId: EmployeeId.optional(),
  systemId: StorableLine.max(100).optional(),
  resignationId: Uuid.optional(),
});

/** One connected system's part of a reconciliation. */
export const ReconciledSystem = z.object({
  systemId: z.string(),
  /** ok: every account read; partial: some accounts could not be read; failed: the system could not be read (down, timed out). */
  status: z.enum(['ok', 'partial', 'failed']),
  /** Accounts read and compared. */
  accounts: z.number().int().min(0),
  /** Accounts not compared this time: a change EMS asked for is on its way, or EMS changed them while they were read. */
  deferred: z.number().int().min(0),
  newDrifts: z.number().int().min(0),
  resolvedDrifts: z.number().int().min(0),
  /** Memberships found outside any hold and recorded as active grants. */
  discoveredGrants: z.number().int().min(0),
  /** Active grants the system no longer showed outside any hold, recorded as revoked. */
  removedGrants: z.number().int().min(0),
  /** The system's error (the first one), credentials never included. */
  error: z.string().nullable(),
});

/** The answer of POST /api/access/reconciliations: what one reconciliation round found. */
export const Reconciliation = z
  .object({
    startedAt: IsoDateTime,
    finishedAt: IsoDateTime,
    systems: z.array(ReconciledSystem),
    newDrifts: z.number().int().min(0),
    /** Drifts open after the round, on every system. */
    openDrifts: z.number().int().min(0),
  })
  .meta({ id: 'AccessReconciliation' });
export type Reconciliation = z.infer<typeof Reconciliation>;

// ── Involuntary and mass exits: Access's typed command (operation suspendAccessForExit, service ems) ─────

/**
 * POST /api/access/exit-suspensions: the same payload as the involuntaryExitsStarted event (one chunk); the answer is
 * the exitAccessSuspended payload. Both adapters call one core (suspend-access-for-exit/). Idempotent by (batchId, chunk):
 * a repeat answers what the first call did.
 */
export const SuspendAccessForExitRequest = InvoluntaryExitsStarted.meta({ id: 'SuspendAccessForExitRequest' });
export type SuspendAccessForExitRequest = z.infer<typeof SuspendAccessForExitRequest>;
export const SuspendAccessForExitAnswer = ExitAccessSuspended.meta({ id: 'SuspendAccessForExitAnswer' });
export type SuspendAccessForExitAnswer = z.infer<typeof SuspendAccessForExitAnswer>;
