import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, ListOf, PageQuery, StorableLine, StorableText, Uuid } from './common.ts';
import { InviteNotSent } from './events.ts';
import { FollowUpLevel, FollowUpMilestone } from './notification.ts';

/** HR service API: the people directory (employees, managers, HR partners) and exit interviews. */

export const PersonRef = z.object({ id: z.string(), name: z.string(), email: z.string() });

/** ISO weekdays (1 = Monday … 7 = Sunday) and local wall-clock times 'HH:mm', in the person's own zone. */
export const WorkingHours = z.object({ days: z.array(z.number().int().min(1).max(7)), start: z.string(), end: z.string() });

export const HrPartner = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    timezone: z.string(),
    workingHours: WorkingHours,
    /** Whom an unanswered reminder escalates to (the HR lead); null when none is configured. */
    lead: PersonRef.nullable(),
  })
  .meta({ id: 'HrPartner' });
export type HrPartner = z.infer<typeof HrPartner>;

export const HrPartnerList = ListOf(HrPartner).meta({ id: 'HrPartnerList' });
export const HrPartnerListQuery = PageQuery;

export const Employee = z
  .object({
    id: EmployeeId,
    name: z.string(),
    email: z.string(),
    title: z.string(),
    department: z.object({ id: z.string(), name: z.string() }),
    location: z.string(),
    timezone: z.string(),
    /** The days and hours they work, in `timezone`: a last working day must be one of these days. */
    workingHours: WorkingHours,
    manager: PersonRef.nullable(),
    hrPartner: PersonRef.extend({ timezone: z.string() }),
  })
  .meta({ id: 'Employee' });
export type Employee = z.infer<typeof Employee>;

export const EmployeeList = ListOf(Employee).meta({ id: 'EmployeeList' });
export const EmployeeListQuery = PageQuery.extend({ departmentId: StorableLine.max(100).optional(), q: StorableLine.max(100).optional() });

export const InterviewStatus = z.enum(['scheduled', 'cancelled', 'held']);
export type InterviewStatus = z.infer<typeof InterviewStatus>;

export const Interview = z
  .object({
    id: Uuid,
    resignationId: Uuid,
    employeeId: EmployeeId,
    hrPartnerId: z.string(),
    start: IsoDateTime,
    end: IsoDateTime,
    /** The HR partner's zone; start/end are instants. */
    timezone: z.string(),
    status: InterviewStatus,
    /** When the HR partner marked it held (null until then). */
    heldAt: IsoDateTime.nullable(),
    /** The HR partner's notes of the conversation (confidential to HR; never put on the bus). */
    notes: z.string().nullable(),
    /** iCalendar SEQUENCE: bumped by every reschedule/cancel so clients update the same event. */
    sequence: z.number().int(),
    /** iCalendar UID of the event. */
    uid: z.string(),
    createdAt: IsoDateTime,
    /**
     * In the answer to a booking or a move (and its repeats): this version's invites HR did not send because
     * Notification would refuse them; absent when none was refused. exit-interview-scheduled carries the same.
     */
    invitesNotSent: z.array(InviteNotSent).max(2).optional(),
  })
  .meta({ id: 'Interview' });
export type Interview = z.infer<typeof Interview>;

export const ScheduleInterviewRequest = z
  .object({
    resignationId: Uuid,
    employeeId: EmployeeId,
    lastWorkingDay: IsoDate,
  })
  .meta({ id: 'ScheduleInterviewRequest' });
export type ScheduleInterviewRequest = z.infer<typeof ScheduleInterviewRequest>;

export const RescheduleInterviewRequest = z
  .object({
    /** A specific start; omitted → the next free slot after the current one. */
    start: IsoDateTime.optional(),
  })
  .meta({ id: 'RescheduleInterviewRequest' });
export type RescheduleInterviewRequest = z.infer<typeof RescheduleInterviewRequest>;

/** Body of POST /api/interviews/{id}/held. */
export const MarkInterviewHeldRequest = z
  .object({ notes: StorableText.trim().max(10_000).optional() })
  .strict()
  .meta({ id: 'MarkInterviewHeldRequest' });
export type MarkInterviewHeldRequest = z.infer<typeof MarkInterviewHeldRequest>;

/** Body of POST /api/interviews/{id}/cancel; optional. */
export const CancelInterviewRequest = z
  .object({ reason: StorableText.trim().min(1).max(500).optional() })
  .strict()
  .meta({ id: 'CancelInterviewRequest' });
export type CancelInterviewRequest = z.infer<typeof CancelInterviewRequest>;

/** Why a closed case's interview was not cancelled: one definition for both modes (the event's `skipped` says the same). */
export const CancellationSkipped = z.enum(['no interview', 'already held', 'already cancelled']);
export type CancellationSkipped = z.infer<typeof CancellationSkipped>;

/**
 * POST /api/hr/case-closures (operation cancelInterviewOnClose, service ems): the resignation was retained or
 * withdrawn — HR records it (no booking, no follow-up after it) and cancels the interview still scheduled, sending
 * METHOD:CANCEL. The orchestrator's command; choreography's retained / withdrawn events run the same use case.
 */
export const CaseClosureRequest = z
  .object({ resignationId: Uuid, decision: z.enum(['retained', 'withdrawn']), decidedAt: IsoDateTime })
  .meta({ id: 'CaseClosureRequest' });
export type CaseClosureRequest = z.infer<typeof CaseClosureRequest>;
export const CaseClosure = z
  .object({
    resignationId: Uuid,
    /** The interview cancelled, or the one that was not (held, cancelled before); null when there was none. */
    interviewId: Uuid.nullable(),
    cancelled: z.boolean(),
    skipped: CancellationSkipped.nullable(),
  })
  .meta({ id: 'CaseClosure' });
export type CaseClosure = z.infer<typeof CaseClosure>;

/**
 * POST /api/hr/follow-ups (operation followUpExitProcess, service ems): the orchestrator's command for a follow-up
 * whose deadline passed (by the policy in follow-up-policy.ts). HR's use case — the same one its own timer runs in
 * choreography — decides with its own facts (the interview booked or held, the decision, what was sent) whether it
 * is still due, sends it once by its key through Notification and records it. The case's facts HR may not have
 * heard of (orchestration: no resignation-submitted reaches HR) come with the request and are recorded once.
 */
export const FollowUpRequest = z
  .object({
    resignationId: Uuid,
    employee: z.object({ id: EmployeeId, name: StorableText.min(1).max(200) }),
    hrPartnerId: StorableLine.min(1).max(100),
    submittedAt: IsoDateTime,
    milestone: FollowUpMilestone,
    level: FollowUpLevel,
    /** When the caller found it due: HR sends it if, with its own facts, it is due by then or by HR's clock. */
    dueAt: IsoDateTime,
  })
  .meta({ id: 'FollowUpRequest' });
export type FollowUpRequest = z.infer<typeof FollowUpRequest>;

/** Why a follow-up asked for is not sent: the case was decided, its milestone met (interview booked, held), or not due yet with HR's facts. */
export const FollowUpNotDue = z.enum(['decided', 'milestone met', 'not yet due']);
export type FollowUpNotDue = z.infer<typeof FollowUpNotDue>;

/** The case's interview as HR knows it (scheduled or held), so the caller can time the next follow-up. */
export const FollowUpInterview = z.object({ end: IsoDateTime, held: z.boolean() }).nullable();

const followUpOf = { resignationId: Uuid, milestone: FollowUpMilestone, level: FollowUpLevel, interview: FollowUpInterview };
/**
 * sent: the email (Notification's id) and its addressee — a repeat answers the one recorded first; skipped: recorded
 * without an email (nobody to send it to, or Notification refused it), with why; not due: nothing sent, with why and,
 * when still called for, the instant HR finds it due.
 */
export const FollowUpAnswer = z
  .discriminatedUnion('outcome', [
    z.object({ outcome: z.literal('sent'), ...followUpOf, dueAt: IsoDateTime, to: z.string(), emailId: Uuid }),
    z.object({ outcome: z.literal('skipped'), ...followUpOf, dueAt: IsoDateTime, reason: z.string() }),
    z.object({ outcome: z.literal('not due'), ...followUpOf, reason: FollowUpNotDue, dueAt: IsoDateTime.nullable() }),
  ])
  .meta({ id: 'FollowUpAnswer' });
export type FollowUpAnswer = z.infer<typeof FollowUpAnswer>;

export const InterviewList = ListOf(Interview).meta({ id: 'InterviewList' });
export const InterviewListQuery = PageQuery.extend({
  resignationId: Uuid.optional(),
  hrPartnerId: StorableLine.max(100).optional(),
  /** Interviews starting at or after this instant (e.g. the start of today in the partner's zone). */
  from: IsoDateTime.optional(),
  /** …and before this instant (exclusive). With `from` or `to`, the list is ordered by start, earliest first. */
  to: IsoDateTime.optional(),
  status: InterviewStatus.optional(),
});

/** Problem `type`s HR answers with, so callers can tell them apart without parsing text. */
export const HrProblemTypes = {
  /** 409: the partner's calendar has no free 30-minute slot between the next business day and the last working day. */
  noFreeSlot: 'https://ems.dev/problems/no-free-slot',
  /** 409: the requested reschedule start is not a free slot (outside working hours, busy, taken, too late). */
  slotUnavailable: 'https://ems.dev/problems/slot-unavailable',
  /** 409: the interview's status does not allow the transition (e.g. rescheduling a cancelled one). */
  illegalTransition: 'https://ems.dev/problems/illegal-transition',
  /** 422: an Idempotency-Key was reused for a different request. */
  idempotencyKeyReused: 'https://ems.dev/problems/idempotency-key-reused',
  /** 409: the interview has not started yet; it cannot be marked held. */
  notStarted: 'https://ems.dev/problems/interview-not-started',
  /** 409: the interview's notes were recorded; they are not overwritten. */
  notesRecorded: 'https://ems.dev/problems/interview-notes-recorded',
} as const;

export { HrPaths } from './paths.ts';
