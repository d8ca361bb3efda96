/** How a case's status follows from its steps, in both modes (pure): the orchestrator's settle and the tracker both apply it. */
import type { Selectable } from 'kysely';
import type { ResignationRow } from '../db/types.ts';
import { STEP_NAMES, closedWhen, statusAfterReactions, type CaseStatus, type ReactionStep, type StepName, type StepStatus } from '../domain/resignation.ts';
import type { TimelineInput } from './case.types.ts';
import { summaries } from '../domain/summaries.ts';

/** What settling a case reads of it. */
export const SETTLE_COLUMNS = ['status', 'decision', 'closed_at', 'employee_name'] as const;
export type SettleRow = Pick<Selectable<ResignationRow>, (typeof SETTLE_COLUMNS)[number]>;

/**
 * What settling a case changes, worked out from its row and its steps' statuses (pure): the new
 * status, the columns to update (only while the status is one of `onlyFrom`, when given), and the
 * timeline entries to add (deduplicated by their keys).
 */
export function settlement(
  kase: SettleRow,
  all: Partial<Record<StepName, StepStatus>>,
  at: Date,
): { status: CaseStatus; update: { status: CaseStatus; updated_at: Date; closed_at?: Date } | null; onlyFrom: CaseStatus[] | null; timeline: TimelineInput[] } {
  if (kase.decision) {
    const c = closedWhen(kase.decision, all);
    const status = c.status ?? kase.status;
    const closing = c.closed && !kase.closed_at;
    const timeline: TimelineInput[] = [];
    if (status === 'exited' && kase.status !== 'exited') {
      timeline.push({ service: 'ems', type: 'case.exited', summary: summaries.exited(kase.employee_name), dedupeKey: 'exited', at });
    }
    if (closing) timeline.push({ service: 'ems', type: 'case.closed', summary: summaries.closed(status), detail: { steps: all }, dedupeKey: 'closed', at });
    const update = status !== kase.status || closing ? { status, updated_at: at, ...(closing ? { closed_at: at } : {}) } : null;
    return { status, update, onlyFrom: null, timeline };
  }
  const steps = Object.fromEntries(STEP_NAMES.map((n) => [n, all[n] ?? 'pending'])) as Record<ReactionStep, StepStatus>;
  const status = statusAfterReactions(steps);
  const timeline: TimelineInput[] =
    status === 'in_progress'
      ? []
      : [
          {
            service: 'ems',
            type: status === 'awaiting_decision' ? 'reactions.completed' : 'reactions.incomplete',
            summary: summaries.reactionsSettled(status === 'awaiting_decision'),
            detail: { steps },
            dedupeKey: `reactions.settled.${status}`,
            at,
          },
        ];
  return { status, update: { status, updated_at: at }, onlyFrom: ['in_progress', 'action_required'], timeline };
}
