import { z } from 'zod';
import { EmployeeId, IsoDateTime, ListOf, PageQuery, Uuid } from './common.ts';

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
  })
  .meta({ id: 'AccessHold' });
export type AccessHold = z.infer<typeof AccessHold>;

export const CreateHoldRequest = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    reason: z.string().max(500).optional(),
  })
  .meta({ id: 'CreateHoldRequest' });
export type CreateHoldRequest = z.infer<typeof CreateHoldRequest>;

/** Body of POST /api/access-holds/{id}/release; optional. */
export const ReleaseHoldRequest = z
  .object({ reason: z.string().max(500).optional() })
  .meta({ id: 'ReleaseHoldRequest' });
export type ReleaseHoldRequest = z.infer<typeof ReleaseHoldRequest>;

/**
 * Revoking every remaining grant (active or suspended) of a leaver. Without `revokeAt` (or with one in
 * the past) Access revokes at once; with a future `revokeAt` it keeps a durable timer and revokes then.
 * Idempotent per resignation: a repeat changes nothing; a higher `revision` moves a scheduled time.
 */
export const RevocationRequest = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    revokeAt: IsoDateTime.optional(),
    revision: z.number().int().min(1).default(1),
    reason: z.string().max(500).optional(),
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
    revokeAt: IsoDateTime,
    revision: z.number().int(),
    /** The grants revoked (empty until done). */
    revoked: z.array(z.object({ grantId: z.string(), system: z.string() })),
    doneAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'Revocation' });
export type Revocation = z.infer<typeof Revocation>;
export const RevocationList = ListOf(Revocation).meta({ id: 'RevocationList' });
export const RevocationListQuery = PageQuery.extend({ resignationId: Uuid.optional(), employeeId: EmployeeId.optional(), status: RevocationStatus.optional() });

export const AccessSystem = z
  .object({ id: z.string(), name: z.string(), critical: z.boolean() })
  .meta({ id: 'AccessSystem' });
export const SystemList = ListOf(AccessSystem).meta({ id: 'AccessSystemList' });

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: IsoDateTime,
    employeeId: EmployeeId,
    grantId: z.string(),
    system: z.string(),
    from: GrantStatus,
    to: GrantStatus,
    reason: z.string(),
    holdId: Uuid.nullable(),
  })
  .meta({ id: 'AccessAuditEntry' });

export const HoldList = ListOf(AccessHold).meta({ id: 'AccessHoldList' });
export const HoldListQuery = PageQuery.extend({ resignationId: Uuid.optional(), employeeId: EmployeeId.optional() });
export const AuditList = ListOf(AuditEntry).meta({ id: 'AccessAuditList' });
export const AuditListQuery = PageQuery.extend({ employeeId: EmployeeId.optional(), holdId: Uuid.optional() });

export const AccessPaths = {
  holds: '/api/access-holds',
  hold: (id: string) => `/api/access-holds/${encodeURIComponent(id)}`,
  release: (id: string) => `/api/access-holds/${encodeURIComponent(id)}/release`,
  employeeAccess: (employeeId: string) => `/api/employees/${encodeURIComponent(employeeId)}/access`,
  audit: '/api/access-audit',
  systems: '/api/systems',
  revocations: '/api/access-revocations',
  revocation: (id: string) => `/api/access-revocations/${encodeURIComponent(id)}`,
} as const;
