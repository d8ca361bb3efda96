import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, ListOf, PageQuery, StorableText, Uuid } from './common.ts';

/** EMS public API: resignation intake and case tracking. */

/** Why, in one word of a fixed list (the exit report groups by it); the free-text reason says the rest. */
export const ReasonCategory = z.enum(['career', 'compensation', 'management', 'relocation', 'personal', 'other']);
export type ReasonCategory = z.infer<typeof ReasonCategory>;

export const SubmitResignationRequest = z
  .object({
    employeeId: EmployeeId,
    lastWorkingDay: IsoDate.optional(),
    reason: StorableText.trim().max(2000).optional(),
    reasonCategory: ReasonCategory.optional(),
  })
  .strict()
  .meta({ id: 'SubmitResignationRequest' });
export type SubmitResignationRequest = z.infer<typeof SubmitResignationRequest>;

/** `late`: past its deadline and still awaited. */
export const StepStatus = z.enum(['pending', 'late', 'done', 'failed']);
/**
 * in_progress → awaiting_decision | action_required → retained | withdrawn (closed when access is
 * restored, the interview cancelled and both told) | exit_confirmed → exited (all access revoked).
 */
export const CaseStatus = z.enum(['in_progress', 'awaiting_decision', 'action_required', 'retained', 'withdrawn', 'exit_confirmed', 'exited']);
export type CaseStatus = z.infer<typeof CaseStatus>;
export const DecisionKind = z.enum(['retained', 'exit_confirmed']);
export const Mode = z.enum(['orchestration', 'choreography']);

export const Step = z.object({
  status: StepStatus,
  /** When the step reached its status (null while pending). */
  at: IsoDateTime.nullable(),
  /** By when the reaction is expected; past it, a pending step turns `late`. */
  expectedBy: IsoDateTime.nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
});

export const DecisionRequest = z
  .object({
    decision: DecisionKind,
    /** exit_confirmed: the final last working day (defaults to the one submitted); a later confirmation may move it. */
    lastWorkingDay: IsoDate.optional(),
    note: StorableText.trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'DecisionRequest' });
export type DecisionRequest = z.infer<typeof DecisionRequest>;

export const WithdrawalRequest = z
  .object({ note: StorableText.trim().max(2000).optional() })
  .strict()
  .meta({ id: 'WithdrawalRequest' });
export type WithdrawalRequest = z.infer<typeof WithdrawalRequest>;

/** Who made a change: a person (with the role that allowed it and the client they used) or a service. */
export const Actor = z
  .object({
    id: z.string(),
    kind: z.enum(['person', 'service']),
    name: z.string().nullable(),
    role: z.string(),
    client: z.string(),
  })
  .meta({ id: 'Actor' });
export type Actor = z.infer<typeof Actor>;

export const CaseDecision = z.object({
  decision: z.enum(['retained', 'withdrawn', 'exit_confirmed']),
  decidedAt: IsoDateTime,
  note: z.string().nullable(),
  /** exit_confirmed: the final last working day and the instant access is revoked (end of that day, employee's zone). */
  lastWorkingDay: IsoDate.nullable(),
  revokeAt: IsoDateTime.nullable(),
  /** Counts confirmations that moved the last working day (1 = first decision). */
  revision: z.number().int(),
  /** Who decided (or withdrew): the person, the role that allowed it, the client. */
  decidedBy: Actor.nullable(),
});

/** What Access asked one connected system to do for the case, and the system's latest word on it. */
export const CaseSystem = z
  .object({
    /** The connector task: one per system per change. */
    changeId: Uuid,
    systemId: z.string(),
    /** builtin, ldap, scim or http. */
    connector: z.string(),
    action: z.enum(['suspend', 'restore', 'revoke']),
    /** done: made and verified; retrying: failed, Access tries again at retryAt; failed: Access gave up. */
    status: z.enum(['done', 'retrying', 'failed']),
    /** The system's own names of what was taken away or given back (group DNs, SCIM group ids, roles). */
    entitlements: z.array(z.string()),
    attempts: z.number().int(),
    /** done: how the connector checked it, in words. */
    verification: z.string().nullable(),
    /** retrying / failed: the system's own error. */
    error: z.string().nullable(),
    retryAt: IsoDateTime.nullable(),
    /** When the system reached this status. */
    at: IsoDateTime,
  })
  .meta({ id: 'CaseSystem' });
export type CaseSystem = z.infer<typeof CaseSystem>;

/** A connected system found differing from the case's hold or revocation (e.g. the account re-enabled). */
export const CaseDrift = z
  .object({
    driftId: Uuid,
    systemId: z.string(),
    kind: z.enum(['account_enabled', 'entitlement_added', 'entitlement_missing']),
    entitlement: z.string().nullable(),
    /** In words: what EMS expected and what the system showed. */
    detail: z.string(),
    detectedAt: IsoDateTime,
  })
  .meta({ id: 'CaseDrift' });
export type CaseDrift = z.infer<typeof CaseDrift>;

const ResponsiblePerson = z.object({ id: EmployeeId, name: z.string().nullable() });

/** Who is responsible for the case now: the submission's manager and HR partner, or those the directory named since. */
export const Responsible = z
  .object({
    manager: ResponsiblePerson.nullable(),
    hrPartner: ResponsiblePerson.nullable(),
    /** When the directory changed them after submission (null: still those of the submission). */
    changedAt: IsoDateTime.nullable(),
    /** The submission's, for comparison (names as the roster had them then). */
    atSubmission: z.object({ manager: ResponsiblePerson.nullable(), hrPartner: ResponsiblePerson.nullable() }),
  })
  .meta({ id: 'Responsible' });
export type Responsible = z.infer<typeof Responsible>;

export const Resignation = z
  .object({
    id: Uuid,
    employeeId: EmployeeId,
    employeeName: z.string(),
    /** The last working day in force: the one submitted, or the one an exit confirmation set. */
    lastWorkingDay: IsoDate,
    reason: z.string().nullable(),
    /** The reason's category, when the submission gave one (left out of a summary view, like the reason). */
    reasonCategory: ReasonCategory.nullable(),
    /** The employee's department when they resigned (from the directory). */
    department: z.string().nullable(),
    status: CaseStatus,
    mode: Mode,
    correlationId: z.string(),
    submittedAt: IsoDateTime,
    updatedAt: IsoDateTime,
    /** Set once nothing more will happen for the case. */
    closedAt: IsoDateTime.nullable(),
    decision: CaseDecision.nullable(),
    /**
     * The three first reactions, then — once decided — what the decision sets off: retained/withdrawn →
     * announceDecision, restoreAccess, cancelInterview; exit_confirmed → announceDecision, revokeAccess.
     */
    steps: z.object({
      notifyManager: Step,
      scheduleInterview: Step,
      blockAccess: Step,
      announceDecision: Step.optional(),
      restoreAccess: Step.optional(),
      cancelInterview: Step.optional(),
      revokeAccess: Step.optional(),
    }),
    /** Each change made on a connected system for the case (LDAP, SCIM, HTTP), in order: its status and its verification or error. */
    systems: z.array(CaseSystem),
    /** What reconciliations found contradicting the case's hold or revocation, oldest first. */
    drifts: z.array(CaseDrift),
    responsible: Responsible,
  })
  .meta({ id: 'Resignation' });
export type Resignation = z.infer<typeof Resignation>;

export const ResignationList = ListOf(Resignation).meta({ id: 'ResignationList' });
export const ResignationListQuery = PageQuery.extend({
  /** A case status, or `stuck`: open cases with a step late or failed. */
  status: z.union([CaseStatus, z.literal('stuck')]).optional(),
  employeeId: EmployeeId.optional(),
});


export const TimelineEntry = z
  .object({
    at: IsoDateTime,
    service: z.string(),
    type: z.string(),
    summary: z.string(),
    correlationId: z.string(),
    detail: z.record(z.string(), z.unknown()),
    actor: Actor,
  })
  .meta({ id: 'TimelineEntry' });
export type TimelineEntry = z.infer<typeof TimelineEntry>;
export const Timeline = z.object({ resignationId: Uuid, items: z.array(TimelineEntry) }).meta({ id: 'Timeline' });

export { EmsPaths } from './paths.ts';

/** Problem `type`s of the EMS API. */
export const EmsProblemTypes = {
  /** 409: the case's status does not allow the request (e.g. a decision on a closed case). */
  illegalTransition: 'https://ems.dev/problems/illegal-transition',
} as const;
