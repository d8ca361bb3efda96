import { z } from 'zod';
import { IsoDate } from './common.ts';
import { ExitReason, ReasonCategory } from './ems.ts';

/**
 * The HR lead's exit report: how many people resigned, left, stayed or withdrew, by month, by department
 * and by reason category, over a window of days (UTC). Each case counts in a series by the instant of its
 * event: `submitted` when submitted, `exits` (exit confirmed, whether or not the last day has passed yet)
 * when the exit was first confirmed, `retained` and `withdrawn` when decided — all four of resignations —
 * and `involuntary` when HR started an involuntary exit (alone or in a mass exit). The series are disjoint:
 * everybody who left or is leaving is `exits + involuntary`.
 */
export { ReportPaths } from './paths.ts';

export const ExitReportQuery = z.object({
  /** First day counted (default: the first day of the month eleven months before `to`). */
  from: IsoDate.optional(),
  /** Last day counted, inclusive (default: today, UTC). */
  to: IsoDate.optional(),
});
export type ExitReportQuery = z.infer<typeof ExitReportQuery>;

export const ExitCounts = z.object({
  submitted: z.number().int(),
  exits: z.number().int(),
  retained: z.number().int(),
  withdrawn: z.number().int(),
  /** Involuntary exits HR started (never in `submitted` or `exits`: they are not resignations). */
  involuntary: z.number().int(),
});
export type ExitCounts = z.infer<typeof ExitCounts>;

/** `uncategorised`: cases submitted without a reason category. */
export const ReportReason = z.union([ReasonCategory, z.literal('uncategorised')]);

export const ExitReport = z
  .object({
    from: IsoDate,
    to: IsoDate,
    totals: ExitCounts,
    /** Every month of the window, oldest first, zeros included (`month`: YYYY-MM). */
    byMonth: z.array(ExitCounts.extend({ month: z.string() })),
    /** Departments with at least one count, by people leaving (exits + involuntary) then name; `department` null: not known for the case. */
    byDepartment: z.array(ExitCounts.extend({ department: z.string().nullable() })),
    /** Resignations by the employee's reason category: every category and `uncategorised`, in the list's order, zeros included (`involuntary` is 0: see byExitReason). */
    byReason: z.array(ExitCounts.extend({ reasonCategory: ReportReason })),
    /** Involuntary exits by HR's reason: every reason, in the list's order, zeros included. */
    byExitReason: z.array(z.object({ reason: ExitReason, involuntary: z.number().int() })),
  })
  .meta({ id: 'ExitReport' });
export type ExitReport = z.infer<typeof ExitReport>;
