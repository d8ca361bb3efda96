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
/** A resignation (the employee's) or an involuntary exit (started by HR: every grant suspended at once, manager and employee told after). */
export const CaseKind = z.enum(['resignation', 'involuntary']);
export type CaseKind = z.infer<typeof CaseKind>;

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
    /** `involuntary`: an exit HR started (alone or in a mass exit) — decided from the start, no interview, no retention. */
    kind: CaseKind,
    /** The involuntary exit batch the case belongs to (null for a resignation). */
    batchId: Uuid.nullable(),
    /**
     * The three first reactions, then — once decided — what the decision sets off: retained/withdrawn →
     * announceDecision, restoreAccess, cancelInterview; exit_confirmed → announceDecision, revokeAccess.
     */
    steps: z.object({
      /** Absent on an involuntary case (no resignation notice: its announceDecision tells manager and employee). */
      notifyManager: Step.optional(),
      /** Absent on an involuntary case (no interview). */
      scheduleInterview: Step.optional(),
      /** On an involuntary case: EVERY grant suspended (not only the critical ones), revocation scheduled. */
      suspendAccess: Step,
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
  /** 409: a decision or withdrawal asked of an involuntary exit (decided when HR started it; nothing to retain or withdraw). */
  involuntaryCase: 'https://ems.dev/problems/involuntary-case',
  /** 422: people of an involuntary / mass exit that cannot exit (unknown, inactive, already an open case): `errors` lists each by row. Nothing was started. */
  exitRowsRefused: 'https://ems.dev/problems/exit-rows-refused',
} as const;

// ── Involuntary and mass exits ──────────────────────────────────────────────────────────────────────

/** Why HR ends the employment (the exit report groups by it); the note says the rest. */
export const ExitReason = z.enum(['misconduct', 'redundancy', 'performance', 'end_of_contract', 'other']);
export type ExitReason = z.infer<typeof ExitReason>;

/** At most this many people in one request (one batch). */
export const MAX_EXITS_PER_BATCH = 10_000;

export const ExitEmployee = z.object({
  employeeId: EmployeeId,
  /** Default: today in the employee's time zone. Never in the past. */
  lastWorkingDay: IsoDate.optional(),
}).strict();

/**
 * POST /api/exits (operation startInvoluntaryExits, hr_lead; Idempotency-Key required). JSON is this; `text/csv` is
 * a file with the header `employee_id[,last_working_day]` and the rest as query parameters (`reason`, `revokeAt`, `note`).
 * One person = an involuntary exit; many = a mass exit. Every person is checked first: one refused row refuses all (422).
 */
export const StartExitsRequest = z
  .object({
    employees: z.array(ExitEmployee).min(1).max(MAX_EXITS_PER_BATCH),
    /** When every grant of every person is revoked. Default: the end of today in each employee's time zone. Not in the past. */
    revokeAt: IsoDateTime.optional(),
    reason: ExitReason,
    /** For HR: kept on each case as the decision note (never sent to the employee or the manager). */
    note: StorableText.trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'StartExitsRequest' });
export type StartExitsRequest = z.infer<typeof StartExitsRequest>;

/** The query of the `text/csv` form of POST /api/exits. */
export const StartExitsCsvQuery = z
  .object({ reason: ExitReason, revokeAt: IsoDateTime.optional(), note: StorableText.trim().max(2000).optional() })
  .strict();
export type StartExitsCsvQuery = z.infer<typeof StartExitsCsvQuery>;

/** One refused person of a request: the row (1-based: the n-th employee, or the CSV line number counting the header as line 1). */
export const ExitRowError = z.object({ row: z.number().int().min(1), employeeId: z.string().nullable(), error: z.string() });
export type ExitRowError = z.infer<typeof ExitRowError>;

/** 422 of POST /api/exits: every refused person by row; nothing was started. */
export const ExitRowsRefusedProblem = z
  .object({ type: z.string(), title: z.string(), status: z.number().int(), detail: z.string().optional(), errors: z.array(ExitRowError) })
  .meta({ id: 'ExitRowsRefusedProblem', description: 'RFC 9457 problem details listing every refused person of an exit request by row; nothing was started.' });

/** One case of a batch, as progress shows it. */
export const ExitBatchCase = z.object({
  resignationId: Uuid,
  employeeId: EmployeeId,
  employeeName: z.string(),
  status: CaseStatus,
  /** Every grant suspended (suspendAccess). */
  accessSuspended: StepStatus,
  /** Manager and employee told (announceDecision). */
  noticesSent: StepStatus,
  /** Every grant revoked at revokeAt (revokeAccess). */
  accessRevoked: StepStatus,
  revokeAt: IsoDateTime,
});
export type ExitBatchCase = z.infer<typeof ExitBatchCase>;

/**
 * GET /api/exits/{batchId} (operation getExitBatch, hr_lead): a batch's progress. `settled`: every case's access
 * suspended (or failed) and its notices sent (or failed), with the revocation scheduled — what the batch does at once;
 * each case then becomes `exited` at its revokeAt.
 */
export const ExitBatch = z
  .object({
    id: Uuid,
    mode: Mode,
    reason: ExitReason,
    /** The revokeAt HR gave (null: the end of the day in each employee's zone). */
    revokeAt: IsoDateTime.nullable(),
    total: z.number().int(),
    chunks: z.number().int(),
    accessSuspended: z.number().int(),
    noticesSent: z.number().int(),
    revocationsScheduled: z.number().int(),
    /** Cases with a step failed (suspension, notices or revocation). */
    failed: z.number().int(),
    /** Cases whose access is revoked (status exited). */
    exited: z.number().int(),
    settled: z.boolean(),
    createdAt: IsoDateTime,
    /** When the batch settled (null while not). */
    settledAt: IsoDateTime.nullable(),
    createdBy: Actor.nullable(),
    cases: ListOf(ExitBatchCase),
  })
  .meta({ id: 'ExitBatch' });
export type ExitBatch = z.infer<typeof ExitBatch>;
export const ExitBatchQuery = PageQuery;

/**
 * GET /api/exits (operation listExitBatches, hr_lead): the batches, newest first, as their batch rows hold them —
 * no case is counted (a batch's counts are GET /api/exits/{id}). `settled`: settledAt is recorded (the batch's own
 * page may see it settle a moment before the list does).
 */
export const ExitBatchSummary = z
  .object({
    id: Uuid,
    mode: Mode,
    reason: ExitReason,
    /** People in the batch. */
    total: z.number().int(),
    createdAt: IsoDateTime,
    createdBy: Actor.nullable(),
    settled: z.boolean(),
    settledAt: IsoDateTime.nullable(),
  })
  .meta({ id: 'ExitBatchSummary' });
export type ExitBatchSummary = z.infer<typeof ExitBatchSummary>;
export const ExitBatchList = ListOf(ExitBatchSummary).meta({ id: 'ExitBatchList' });
export type ExitBatchList = z.infer<typeof ExitBatchList>;
export const ExitBatchListQuery = PageQuery;

/** The 202 answer to POST /api/exits (also the answer to a repeat with the same Idempotency-Key: 200). */
export const ExitsStarted = z
  .object({ id: Uuid, total: z.number().int(), chunks: z.number().int(), progress: z.string() })
  .meta({ id: 'ExitsStarted' });
export type ExitsStarted = z.infer<typeof ExitsStarted>;
