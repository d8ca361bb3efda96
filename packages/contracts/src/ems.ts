import { z } from 'zod';
import { EmployeeId, IsoDate, IsoDateTime, ListOf, PageQuery, Uuid } from './common.ts';

/** EMS public API: resignation intake and case tracking. */

export const SubmitResignationRequest = z
  .object({
    employeeId: EmployeeId,
    lastWorkingDay: IsoDate.optional(),
    reason: z.string().trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'SubmitResignationRequest' });
export type SubmitResignationRequest = z.infer<typeof SubmitResignationRequest>;

/** `late`: past its deadline and still awaited. */
export const StepStatus = z.enum(['pending', 'late', 'done', 'failed']);
export const CaseStatus = z.enum(['in_progress', 'awaiting_decision', 'action_required']);
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

export const Resignation = z
  .object({
    id: Uuid,
    employeeId: EmployeeId,
    employeeName: z.string(),
    lastWorkingDay: IsoDate,
    reason: z.string().nullable(),
    status: CaseStatus,
    mode: Mode,
    correlationId: z.string(),
    submittedAt: IsoDateTime,
    updatedAt: IsoDateTime,
    steps: z.object({ notifyManager: Step, scheduleInterview: Step, blockAccess: Step }),
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
  })
  .meta({ id: 'TimelineEntry' });
export const Timeline = z.object({ resignationId: Uuid, items: z.array(TimelineEntry) }).meta({ id: 'Timeline' });

export const EmsPaths = {
  resignations: '/api/resignations',
  resignation: (id: string) => `/api/resignations/${encodeURIComponent(id)}`,
  timeline: (id: string) => `/api/resignations/${encodeURIComponent(id)}/timeline`,
} as const;
